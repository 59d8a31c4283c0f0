"""What a data check finds, and the one-click fixes it offers (no Qt, no torch).

A `Finding` names a problem, the images it concerns (ids; duplicates also as groups), a line of
explanation, and at most one `Fix`. `apply_fix(project, fix)` carries a fix out through the
project's own saving calls: "set_split" moves images (split fixed by hand, so re-splitting keeps
them), "train_setting" writes one key of the project's training settings (training.json).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

SEVERITIES = ("high", "medium", "info")
MAX_IDS_JSON = 1000  # per finding in --json output; `count` always has the full number


@dataclass
class Fix:
    action: str  # "set_split" | "train_setting"
    label: str  # button text, e.g. "Move each group to one split"
    params: dict = field(default_factory=dict)


@dataclass
class Finding:
    kind: str  # e.g. "leakage", "duplicates", "imbalance", "label_mistakes", "training_labels"
    severity: str  # "high" | "medium" | "info"
    title: str
    detail: str
    image_ids: list[int] = field(default_factory=list)
    groups: list[list[int]] = field(default_factory=list)  # duplicates: ids per group
    notes: dict[int, str] = field(default_factory=dict)  # a line per image, e.g. model's guess
    fix: Fix | None = None

    @property
    def count(self) -> int:
        return len(self.image_ids)

    def to_dict(self, max_ids: int = MAX_IDS_JSON) -> dict:
        d = asdict(self)
        d["count"] = self.count
        d["image_ids"] = self.image_ids[:max_ids]
        d["groups"] = self.groups[: max(1, max_ids // 4)]
        d["notes"] = {str(k): v for k, v in list(self.notes.items())[:max_ids]}
        if self.fix and self.fix.action == "set_split":
            d["fix"]["params"] = {"moves": len(self.fix.params.get("moves", {}))}
        return d


@dataclass
class CheckReport:
    task: str
    n_images: int
    seconds: float
    findings: list[Finding]
    stats: dict = field(default_factory=dict)  # per_class, per_split, hashes decoded, ...

    def to_dict(self) -> dict:
        return {
            "task": self.task,
            "n_images": self.n_images,
            "seconds": round(self.seconds, 3),
            "stats": self.stats,
            "findings": [f.to_dict() for f in self.findings],
        }


def apply_fix(project, fix: Fix) -> str:
    """Carry out `fix` on `project` (saved at once); returns a line saying what was done."""
    if fix.action == "set_split":
        moves: dict[int, str] = {int(k): v for k, v in fix.params["moves"].items()}
        by_split: dict[str, list[int]] = {}
        for iid, split in moves.items():
            by_split.setdefault(split, []).append(iid)
        for split, ids in sorted(by_split.items()):
            project.set_split(ids, split)
        return f"Moved {len(moves)} image(s) so that each duplicate group sits in one split."
    if fix.action == "train_setting":
        from engine.config import TrainConfig

        key, value = fix.params["key"], fix.params["value"]
        if key not in TrainConfig().to_dict():
            raise ValueError(f"Unknown training setting {key!r}.")
        settings = project.load_settings()
        settings[key] = value
        project.save_settings(settings)
        return f"Training setting {key} = {value!r} saved; it applies to the next training."
    raise ValueError(f"Unknown fix {fix.action!r}.")
