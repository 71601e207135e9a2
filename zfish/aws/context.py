"""What every service handler of one endpoint shares: the lake, the credentials, the region, the stop flag."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from zfish.aws.auth import CredentialStore
from zfish.settings import LakeLayout

DEFAULT_REGION = "us-east-1"
ACCOUNT_ID = "000000000000"
# S3's own limit for one PUT is 5 GiB.
DEFAULT_MAX_BODY_BYTES = 5 * 1024**3


@dataclass
class EndpointContext:
    layout: LakeLayout
    credentials: CredentialStore = field(default_factory=CredentialStore.single)
    region: str = DEFAULT_REGION
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    stopping: threading.Event = field(default_factory=threading.Event)
    # Called once when the server stops (services close their stores here).
    on_close: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        while self.on_close:
            self.on_close.pop()()
