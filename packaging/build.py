"""Build the installable app: `python3 packaging/build.py`.

1. icons: hicolor PNG sizes (and .ico / .icns for Windows / macOS) from resources/, with Pillow;
2. the PyInstaller one-folder bundle dist/topdown/ (packaging/topdown.spec);
3. checks on the bundle: both programs, torchvision's stable-ABI libraries, every CUDA library
   of the installed torch except the proven-unused cuts, and every torch/NVIDIA library's
   dependencies resolvable inside the bundle or on the system;
4. on Linux, dist/topdown_<version>_<arch>.deb: /opt/topdown, /usr/bin/topdown and
   /usr/bin/topdown-cli, the .desktop entry and the icons (so the app is in the desktop menu).

Prints a JSON summary (sizes, times) and writes it to dist/build-info.json. Outputs stay in
build/ and dist/ (both git-ignored). Needs `pip install -e ".[build]"` (PyInstaller).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "packaging"))
from bundle_rules import SYSTEM_PROVIDED, is_cut, site_packages_of  # noqa: E402

DIST = ROOT / "dist"
BUILD = ROOT / "build"
BUNDLE = DIST / "topdown"
ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256)
# Libraries of the desktop system the bundled Qt loads (packaging/apt-packages.txt, without
# the test-only xvfb/xauth); glibc 2.28 is the oldest the torch manylinux wheels support.
DEB_DEPENDS = "libc6 (>= 2.28), " + ", ".join(
    p
    for p in (ROOT / "packaging" / "apt-packages.txt").read_text().split()
    if p not in ("xvfb", "xauth")
)


def log(msg: str) -> None:
    print(f"[build] {msg}", file=sys.stderr, flush=True)


def du(path: Path) -> int:
    """Bytes of the files under `path` (symlinks not followed)."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def make_icons(out: Path) -> Path:
    """hicolor/<n>x<n>/apps/topdown.png for each size, the SVG, topdown.ico and topdown.icns."""
    from PIL import Image

    src = Image.open(ROOT / "resources" / "topdown.png").convert("RGBA")
    for n in ICON_SIZES:
        d = out / "hicolor" / f"{n}x{n}" / "apps"
        d.mkdir(parents=True, exist_ok=True)
        src.resize((n, n), Image.LANCZOS).save(d / "topdown.png")
    scal = out / "hicolor" / "scalable" / "apps"
    scal.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "resources" / "topdown.svg", scal / "topdown.svg")
    src.save(out / "topdown.ico", sizes=[(n, n) for n in (16, 24, 32, 48, 64, 128, 256)])
    src.save(out / "topdown.icns")
    return out


def run_pyinstaller(icons: Path) -> None:
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        sys.exit('PyInstaller is not installed: run `python3 -m pip install -e ".[build]"`.')
    env = dict(os.environ, TOPDOWN_ICON_DIR=str(icons))
    # this source tree first, even where another checkout is installed in editable mode
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN"]
    cmd += ["--distpath", str(DIST), "--workpath", str(BUILD / "pyinstaller")]
    subprocess.run([*cmd, str(ROOT / "packaging" / "topdown.spec")], env=env, check=True)


def _needed(lib: Path) -> list[str]:
    out = subprocess.run(["readelf", "-d", str(lib)], capture_output=True, text=True).stdout
    return [ln.split("[", 1)[1].rstrip("]") for ln in out.splitlines() if "(NEEDED)" in ln]


def _system_libs() -> set[str]:
    out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
    return {ln.split()[0] for ln in out.splitlines()[1:] if ln.strip()}


def check_bundle() -> list[str]:
    """Problems found in dist/topdown (empty: fine). See the module docstring."""
    problems = []
    internal = BUNDLE / "_internal"
    exe = "" if sys.platform != "win32" else ".exe"
    for name in ("topdown", "topdown-cli"):
        if not (BUNDLE / f"{name}{exe}").is_file():
            problems.append(f"{name}{exe} is missing from {BUNDLE}")
    if not any((internal / "torchvision").glob("_C_stable*")):
        problems.append("torchvision/_C_stable is missing (torchvision::nms would not exist)")
    if (internal / "triton").exists():
        problems.append("triton was bundled although it is excluded")
    if not sys.platform.startswith("linux"):
        return problems
    site = site_packages_of("torch")
    for lib in sorted((site / "nvidia").rglob("*.so*")):
        rel = lib.relative_to(site).as_posix()
        if not is_cut(rel) and not (internal / rel).exists():
            problems.append(f"CUDA library {rel} is missing from the bundle")
    names = {p.name for p in internal.rglob("*.so*")}
    system = _system_libs() | set(SYSTEM_PROVIDED)
    for top in ("torch", "torchvision", "nvidia"):
        for lib in sorted((internal / top).rglob("*.so*")):
            for dep in _needed(lib):
                if dep not in names and dep not in system:
                    problems.append(f"{lib.relative_to(internal)} needs {dep}, found nowhere")
    return problems


def _version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def _control(version: str, arch: str, installed_kb: int) -> str:
    return (
        f"Package: topdown\nVersion: {version}\nArchitecture: {arch}\n"
        "Maintainer: Topdown developers <topdown@localhost>\n"
        f"Installed-Size: {installed_kb}\nDepends: {DEB_DEPENDS}\n"
        "Section: science\nPriority: optional\n"
        "Description: practical deep learning for images, top-down\n"
        " Label your images, fine-tune a pretrained network, watch it learn, see where it\n"
        " is wrong. Self-contained: Python, PyTorch (with CUDA) and Qt are bundled in\n"
        " /opt/topdown. Check an install with `topdown-cli self-test`.\n"
    )


def build_deb(icons: Path) -> Path:
    """dist/topdown_<version>_<arch>.deb from dist/topdown (staged with hard links)."""
    arch = subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    ).stdout.strip()
    version = _version()
    stage = BUILD / "deb" / f"topdown_{version}_{arch}"
    if stage.exists():
        shutil.rmtree(stage)

    def link_or_copy(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(BUNDLE, stage / "opt" / "topdown", symlinks=True, copy_function=link_or_copy)
    (stage / "usr" / "bin").mkdir(parents=True)
    for name in ("topdown", "topdown-cli"):  # relative, so an extracted .deb works too
        (stage / "usr" / "bin" / name).symlink_to(f"../../opt/topdown/{name}")
    apps = stage / "usr" / "share" / "applications"
    apps.mkdir(parents=True)
    shutil.copy2(ROOT / "resources" / "topdown.desktop", apps / "topdown.desktop")
    shutil.copytree(icons / "hicolor", stage / "usr" / "share" / "icons" / "hicolor")
    doc = stage / "usr" / "share" / "doc" / "topdown"
    doc.mkdir(parents=True)
    (doc / "copyright").write_text(
        "Topdown, MIT license. Bundles Python, PyTorch, Qt, NVIDIA CUDA.\n"
    )
    for p in [stage, *stage.rglob("*")]:
        if p.is_dir() and not p.is_symlink():
            p.chmod(0o755)
    (stage / "DEBIAN").mkdir()
    kb = (du(stage) + 1023) // 1024
    (stage / "DEBIAN" / "control").write_text(_control(version, arch, kb))
    deb = DIST / f"topdown_{version}_{arch}.deb"
    cmd = ["dpkg-deb", "--root-owner-group", "-Zzstd", "-z3", "--build", str(stage), str(deb)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    shutil.rmtree(stage)
    return deb


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Build dist/topdown/ and, on Linux, the .deb.")
    ap.add_argument("--no-deb", action="store_true", help="only the PyInstaller bundle")
    ap.add_argument(
        "--deb-only", action="store_true", help="package the existing dist/topdown again"
    )
    args = ap.parse_args(argv)
    info: dict = {"version": _version(), "platform": sys.platform}
    t0 = time.perf_counter()
    icons = make_icons(BUILD / "icons")
    if not args.deb_only:
        log("PyInstaller bundle (several minutes)…")
        run_pyinstaller(icons)
        info["bundle_seconds"] = round(time.perf_counter() - t0, 1)
    problems = check_bundle()
    for p in problems:
        log(f"PROBLEM: {p}")
    if problems:
        return 1
    info["bundle"] = str(BUNDLE)
    info["bundle_bytes"] = du(BUNDLE)
    info["bundle_files"] = sum(1 for p in BUNDLE.rglob("*") if p.is_file())
    want_deb = sys.platform.startswith("linux") and not args.no_deb
    if want_deb and shutil.which("dpkg-deb"):
        log("Debian package…")
        t1 = time.perf_counter()
        deb = build_deb(icons)
        info.update(deb=str(deb), deb_bytes=deb.stat().st_size)
        info["deb_seconds"] = round(time.perf_counter() - t1, 1)
    elif want_deb:
        log("dpkg-deb not found: no .deb (the bundle is in dist/topdown)")
    info["total_seconds"] = round(time.perf_counter() - t0, 1)
    (DIST / "build-info.json").write_text(json.dumps(info, indent=1) + "\n")
    print(json.dumps(info))
    return 0


if __name__ == "__main__":
    sys.exit(main())
