import enum
import io
import os
from typing import (Iterator, List, NamedTuple, NoReturn, Optional, SupportsIndex,
                    TypeVar, Union)

__version__: str
__all__ = ['Event', 'INotify', 'flags', 'masks', 'parse_events']

_Self = TypeVar('_Self', bound=INotify)
_Path = Union[str, bytes, os.PathLike[str], os.PathLike[bytes]]

class Event(NamedTuple):
    wd: int
    mask: int
    cookie: int
    name: str

class INotify(io.FileIO):
    @property
    def fd(self) -> int: ...
    def __init__(
        self, inheritable: bool = ..., nonblocking: bool = ..., closefd: bool = ...
    ) -> None: ...
    def __enter__(self: _Self) -> _Self: ...
    def add_watch(self, path: _Path, mask: SupportsIndex) -> int: ...
    def rm_watch(self, wd: SupportsIndex) -> None: ...
    def read(  # type: ignore[override]
        self, timeout: Optional[float] = ..., read_delay: Optional[float] = ...
    ) -> List[Event]: ...
    def close(self) -> None: ...
    def __iter__(self) -> Iterator[Event]: ...  # type: ignore[override]
    def readline(self, size: Optional[int] = ...) -> NoReturn: ...
    def readlines(self, hint: int = ...) -> NoReturn: ...
    def readall(self, *args: object) -> NoReturn: ...

def parse_events(data: Union[bytes, bytearray, memoryview]) -> List[Event]: ...

class flags(enum.IntEnum):
    ACCESS = 0x00000001
    MODIFY = 0x00000002
    ATTRIB = 0x00000004
    CLOSE_WRITE = 0x00000008
    CLOSE_NOWRITE = 0x00000010
    OPEN = 0x00000020
    MOVED_FROM = 0x00000040
    MOVED_TO = 0x00000080
    CREATE = 0x00000100
    DELETE = 0x00000200
    DELETE_SELF = 0x00000400
    MOVE_SELF = 0x00000800
    UNMOUNT = 0x00002000
    Q_OVERFLOW = 0x00004000
    IGNORED = 0x00008000
    ONLYDIR = 0x01000000
    DONT_FOLLOW = 0x02000000
    EXCL_UNLINK = 0x04000000
    MASK_CREATE = 0x10000000
    MASK_ADD = 0x20000000
    ISDIR = 0x40000000
    ONESHOT = 0x80000000
    @classmethod
    def from_mask(cls, mask: int) -> List[flags]: ...

class masks(enum.IntEnum):
    CLOSE = 24
    MOVE = 192
    ALL_EVENTS = 4095
