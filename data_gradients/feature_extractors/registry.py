"""Registry of feature extractors by name."""
from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Sequence, Type

from data_gradients.errors import FeatureRegistryError
from data_gradients.feature_extractors.base import FeatureExtractor

_REGISTRY: Dict[str, Type[FeatureExtractor]] = {}


def register_feature(cls: Type[FeatureExtractor]) -> Type[FeatureExtractor]:
    """Class decorator adding a feature extractor to the registry under ``cls.name``."""
    if not (isinstance(cls, type) and issubclass(cls, FeatureExtractor)):
        raise TypeError(f"@register_feature expects a FeatureExtractor subclass, got {cls!r}")
    if not cls.name:
        raise FeatureRegistryError(f"{cls.__name__} has no `name` class attribute")
    if not cls.tasks:
        raise FeatureRegistryError(f"{cls.__name__} has no `tasks` class attribute")
    if cls.name in _REGISTRY:
        raise FeatureRegistryError(
            f"a feature extractor named {cls.name!r} is already registered "
            f"({_REGISTRY[cls.name].__module__}.{_REGISTRY[cls.name].__name__})"
        )
    _REGISTRY[cls.name] = cls
    return cls


def unregister_feature(name: str) -> None:
    """Remove a registered extractor (for tests and interactive sessions)."""
    _REGISTRY.pop(name, None)


def registered_features(task: Optional[str] = None) -> List[str]:
    """Names of registered extractors, in registration order, optionally for one task."""
    return [n for n, c in _REGISTRY.items() if task is None or task in c.tasks]


def get_feature(name: str) -> Type[FeatureExtractor]:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise FeatureRegistryError(f"unknown feature {name!r}; registered: {sorted(_REGISTRY)}") from None


def select_features(task: str, features: Optional[Sequence[str]], exclude: Iterable[str]) -> List[Type[FeatureExtractor]]:
    """The extractor classes to run: ``features`` (or all for ``task``) minus ``exclude``."""
    available = registered_features(task)
    exclude = list(exclude)
    for name in list(features or []) + exclude:
        cls = get_feature(name)
        if task not in cls.tasks:
            raise FeatureRegistryError(f"feature {name!r} does not apply to task {task!r} (tasks: {list(cls.tasks)})")
    names = list(features) if features is not None else available
    return [get_feature(n) for n in names if n not in set(exclude)]
