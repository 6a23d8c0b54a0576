import os
from typing import (Any, AnyStr, Callable, Dict, Generic, Iterator, List, NamedTuple,
                    Optional, SupportsIndex, Type, TypeVar, overload)

__all__ = ['Tree', 'TreeEvent']

_Self = TypeVar('_Self', bound=Tree[Any])

class TreeEvent(NamedTuple, Generic[AnyStr]):
    wd: int
    mask: int
    cookie: int
    name: AnyStr
    path: AnyStr

class Tree(Generic[AnyStr]):
    mask: int
    @overload
    def __init__(
        self: Tree[str],
        path: None = ...,
        mask: SupportsIndex = ...,
        exclude: Optional[Callable[[str], object]] = ...,
        onerror: Optional[Callable[[OSError], object]] = ...,
    ) -> None: ...
    @overload
    def __init__(
        self,
        path: AnyStr | os.PathLike[AnyStr],
        mask: SupportsIndex = ...,
        exclude: Optional[Callable[[AnyStr], object]] = ...,
        onerror: Optional[Callable[[OSError], object]] = ...,
    ) -> None: ...
    def fileno(self) -> int: ...
    @property
    def closed(self) -> bool: ...
    def close(self) -> None: ...
    def __enter__(self: _Self) -> _Self: ...
    def __exit__(self, *exc_info: object) -> None: ...
    def watch(self, path: AnyStr | os.PathLike[AnyStr], recursive: bool = ...) -> int: ...
    def watches(self) -> Dict[int, AnyStr]: ...
    def read(
        self, timeout: Optional[float] = ..., read_delay: Optional[float] = ...
    ) -> List[TreeEvent[AnyStr]]: ...
    def __iter__(self) -> Iterator[TreeEvent[AnyStr]]: ...
