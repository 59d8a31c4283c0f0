"""A quick, non-blocking look whether the pretrained-weights server can be reached.

Qt's own socket does the name lookup and the connect in the background, so no thread of ours
waits on a slow DNS; no data is sent. The answer only decides whether the Train page offers
"Download and train" when weights are missing.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal, Slot

WEIGHTS_HOST = "download.pytorch.org"


class OnlineProbe(QObject):
    """`start()` tries a TCP connect; `finished(bool)` says whether it worked in time."""

    finished = Signal(bool)

    def __init__(
        self, parent: QObject | None = None, host: str = WEIGHTS_HOST, timeout_ms: int = 1500
    ):
        super().__init__(parent)
        self.host = host
        self._socket = None
        self._timer = QTimer(self, singleShot=True, interval=timeout_ms)
        self._timer.timeout.connect(self._failed)

    def start(self) -> None:
        from PySide6.QtNetwork import QTcpSocket  # loaded on first use: not at start-up

        self._drop()
        self._socket = QTcpSocket(self)
        self._socket.connected.connect(self._connected)
        self._socket.errorOccurred.connect(self._failed)
        self._timer.start()
        self._socket.connectToHost(self.host, 443)

    def _drop(self) -> None:
        self._timer.stop()
        if self._socket is not None:
            self._socket.blockSignals(True)
            self._socket.abort()
            self._socket.deleteLater()
            self._socket = None

    @Slot()
    def _connected(self) -> None:
        self._drop()
        self.finished.emit(True)

    @Slot()
    @Slot(object)
    def _failed(self, *_args) -> None:
        if self._socket is None:
            return
        self._drop()
        self.finished.emit(False)
