"""Unknown config keys are an error: every key of a config must be one some part of the pipeline reads.

mmengine adds any key a config file or ``--cfg-options`` names, so ``train_cfg.max_iterz=2`` would train the
default 20k iterations without a word. :func:`check_config_keys` (run by :func:`wsss.engine.config.load_config`,
hence by every tool and driver) refuses such keys, all of them in one :class:`ConfigKeyError`, each with its
closest valid spelling (``difflib``) and, when it came from ``--cfg-options``, saying so.

What is known where (the schema is declared next to the code that reads the keys):

* **Top level**: the union of the sections registered in ``wsss.registry.CONFIG_SECTIONS`` — functions
  ``f(cfg) -> {key: schema}`` in the modules that read those keys (the trainer: ``train_cfg``, ``optim_wrapper``,
  ``param_scheduler``, ``paramwise_cfg``; the data sets: ``data_root``, ``train_dataset``, ``infer_dataset``,
  ``check_data``; the saliency sources: ``saliency_source``, ``saliency_dir``; the pseudo-label stage: ``pseudo``,
  ``label_metrics``; the segmenter stage: ``label_dir``, ``evaluation``; the saliency stage: ``eval_split``,
  ``inference``; this module: ``model``, ``custom_imports``). Top-level keys that start with ``_`` are
  config-file helpers (``_lite0_model`` ...: values a leaf takes through ``_base_._name``); no stage reads them
  and they are not checked.
* **Sections the project owns** (:class:`Keys`): a fixed key list, e.g. ``train_cfg`` (the keys
  ``IterTrainer`` reads), ``pseudo`` (``DEFAULT_PSEUDO``), ``evaluation``, ``inference``.
* **Registry-built dicts** (:class:`Built`: model, backbone, neck, heads, losses, data sets, saliency sources,
  pseudo-label rules, label metrics; mmengine's optim wrappers, optimizers and parameter schedulers): ``type``
  must be registered, and the other keys must be arguments of that class's constructor (``inspect.signature``),
  recursively for nested dicts with a ``type``. A constructor's ``**kwargs`` are followed up the MRO when it
  passes them on to ``super().__init__`` (``EPSHead(**kwargs)`` -> ``CAMHead``'s arguments); a class that keeps
  ``**kwargs`` for itself (a sink, e.g. ``NoSaliency``) accepts any key. A class can describe its plain-dict
  arguments in a ``nested_configs`` class attribute (``VOCDataset``: ``transforms`` -> ``AugmentConfig``).
* **mmengine / torch sections**: ``optim_wrapper`` is built by mmengine: its wrapper class's arguments plus the
  ``constructor`` and ``paramwise_cfg`` that ``build_optim_wrapper`` takes out; ``optimizer`` the torch
  optimizer's arguments; ``clip_grad`` ``type`` plus the arguments of ``clip_grad_norm_`` / ``clip_grad_value_``;
  ``paramwise_cfg`` the keys ``DefaultOptimWrapperConstructor`` reads, each ``custom_keys`` entry ``lr_mult``,
  ``decay_mult`` or a parameter-group option of the optimizer. Left open (not checked), on purpose: the
  ``custom_keys`` names themselves (they are parameter-name substrings), ``paramwise_cfg`` when a custom
  ``constructor`` is set (it reads its own keys), and plain dict values no schema describes.
"""
from __future__ import annotations

import ast
import difflib
import inspect
import textwrap
from functools import lru_cache
from typing import Any, Iterable, Mapping, Optional, Sequence

from wsss.registry import BUILD_REGISTRIES, CONFIG_SECTIONS

__all__ = ['ConfigKeyError', 'Keys', 'MapOf', 'ListOf', 'Built', 'Fields', 'Open', 'check_config_keys',
           'top_level_schema', 'accepted_args']

#: keys mmengine itself reads inside any dict (merge and build directives)
MMENGINE_KEYS = ('_delete_', '_scope_')


class ConfigKeyError(ValueError):
    """A config names keys nothing reads (all of them listed, with the closest valid spellings)."""

    def __init__(self, message: str, problems: Sequence['Problem']):
        super().__init__(message)
        self.problems = list(problems)


class Problem:
    def __init__(self, path: str, message: str):
        self.path, self.message = path, message

    def __repr__(self) -> str:
        return f'Problem({self.path!r}, {self.message!r})'


def _join(path: str, key: Any) -> str:
    return f'{path}.{key}' if path else str(key)


def _suggest(path: str, key: str, valid: Iterable[str]) -> str:
    valid = sorted(set(valid))
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    if close:
        return f'did you mean {_join(path, close[0])}?'
    shown = ', '.join(valid[:15]) + (', ...' if len(valid) > 15 else '')
    return f'valid keys here: {shown}' if valid else 'nothing is read here'


class Spec:
    """A schema node: ``check(value, path, problems)`` appends a :class:`Problem` per unknown key."""

    def check(self, value: Any, path: str, problems: list) -> None:
        raise NotImplementedError


class Open(Spec):
    """Not checked, for a documented ``reason``."""

    def __init__(self, reason: str):
        self.reason = reason

    def check(self, value, path, problems) -> None:
        pass


class Keys(Spec):
    """A dict with a fixed set of keys the project reads; ``children`` check the values of some of them."""

    def __init__(self, keys: Iterable[str], children: Optional[Mapping[str, Optional[Spec]]] = None,
                 skip_private: bool = False, **more_children: Optional[Spec]):
        self.children = {**dict(children or {}), **more_children}
        self.keys = set(keys) | set(self.children)
        self.skip_private = skip_private

    def check(self, value, path, problems) -> None:
        if not isinstance(value, Mapping):
            return
        for key, v in value.items():
            if key in MMENGINE_KEYS or (self.skip_private and str(key).startswith('_')):
                continue
            if key not in self.keys:
                problems.append(Problem(_join(path, key), _suggest(path, str(key), self.keys)))
            elif self.children.get(key) is not None:
                self.children[key].check(v, _join(path, key), problems)


class MapOf(Spec):
    """A dict whose keys are free (names) and whose values all follow ``spec``."""

    def __init__(self, spec: Spec):
        self.spec = spec

    def check(self, value, path, problems) -> None:
        if isinstance(value, Mapping):
            for key, v in value.items():
                self.spec.check(v, _join(path, key), problems)


class ListOf(Spec):
    """A list (or one item alone) of ``spec``."""

    def __init__(self, spec: Spec):
        self.spec = spec

    def check(self, value, path, problems) -> None:
        if isinstance(value, Mapping):
            self.spec.check(value, path, problems)
        elif isinstance(value, (list, tuple)):
            for i, v in enumerate(value):
                self.spec.check(v, _join(path, i), problems)


def _forwards_kwargs(func, name: str) -> bool:
    """Whether ``func``'s source passes ``**name`` on to some ``....__init__(...)`` (cooperative ``super()``)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    except (OSError, TypeError, SyntaxError):
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == '__init__':
            if any(kw.arg is None and isinstance(kw.value, ast.Name) and kw.value.id == name for kw in node.keywords):
                return True
    return False


def _stop_classes() -> tuple:
    import torch
    return object, torch.nn.Module


@lru_cache(maxsize=None)
def accepted_args(obj) -> tuple[frozenset, bool]:
    """``(argument names, open)`` of a class's constructor (or a function): named parameters along the MRO while
    each ``__init__`` passes its ``**kwargs`` on to ``super().__init__``; ``open`` when some ``**kwargs`` are kept
    (a sink) or cannot be followed."""
    P = inspect.Parameter
    if not inspect.isclass(obj):
        params = list(inspect.signature(obj).parameters.values())
        return (frozenset(p.name for p in params if p.kind in (P.POSITIONAL_OR_KEYWORD, P.KEYWORD_ONLY)),
                any(p.kind == P.VAR_KEYWORD for p in params))
    names: set[str] = set()
    stop = _stop_classes()
    for c in obj.__mro__:
        if '__init__' not in vars(c):
            continue
        if c in stop:
            return frozenset(names), False
        init = vars(c)['__init__']
        try:
            params = list(inspect.signature(init).parameters.values())[1:]  # without self
        except (TypeError, ValueError):
            return frozenset(names), True
        names |= {p.name for p in params if p.kind in (P.POSITIONAL_OR_KEYWORD, P.KEYWORD_ONLY)}
        var_kw = next((p.name for p in params if p.kind == P.VAR_KEYWORD), None)
        if var_kw is None:
            return frozenset(names), False
        if not _forwards_kwargs(init, var_kw):
            return frozenset(names), True
    return frozenset(names), False


class Fields(Spec):
    """A plain dict passed as ``cls(**value)`` (a dataclass such as ``CRFParams``): its constructor's arguments."""

    def __init__(self, cls):
        self.cls = cls

    def check(self, value, path, problems) -> None:
        if not isinstance(value, Mapping):
            return
        names, is_open = accepted_args(self.cls)
        if is_open:
            return
        for key in value:
            if key not in names and key not in MMENGINE_KEYS:
                problems.append(Problem(_join(path, key), f'not a field of {self.cls.__name__}; '
                                        + _suggest(path, str(key), names)))


def _registry_names(registries) -> set[str]:
    names = set()
    for r in registries:
        r.import_from_location()
        names |= set(r.module_dict)
    return names


def _lookup(type_name: str, registries) -> Optional[Any]:
    for r in registries:
        r.import_from_location()
        if type_name in r.module_dict:
            return r.module_dict[type_name]
    for r in registries:  # scoped / dotted names (``mmengine.OptimWrapper``), resolved as mmengine does
        if '.' in type_name:
            found = r.get(type_name)
            if found is not None:
                return found
    return None


def _dict_defaults(cls) -> dict[str, Any]:
    """``{argument: type}`` of the constructor arguments (along the MRO) whose default is a dict with a ``type``."""
    out: dict[str, Any] = {}
    for c in reversed(getattr(cls, '__mro__', ())):
        init = vars(c).get('__init__')
        if init is None:
            continue
        try:
            params = inspect.signature(init).parameters.values()
        except (TypeError, ValueError):
            continue
        out.update({p.name: p.default['type'] for p in params
                    if isinstance(p.default, Mapping) and 'type' in p.default})
    return out


class Built(Spec):
    """A dict built by a registry: ``type`` plus the constructor arguments of that class, recursively.

    ``registries``: where ``type`` is looked up (default: every registry of ``wsss.registry``); ``extra``: keys
    the builder takes out before calling the class; ``children``: specs of some arguments (else the class's
    ``nested_configs``; else a dict value with a ``type``, or a list of them, is checked as :class:`Built`)."""

    def __init__(self, *registries, extra: Iterable[str] = (), children: Optional[Mapping[str, Spec]] = None):
        self.registries = registries
        self.extra = set(extra)
        self.children = dict(children or {})

    def check(self, value, path, problems) -> None:
        if not isinstance(value, Mapping) or 'type' not in value:
            return  # nothing to resolve the keys against (the builder itself refuses a missing type)
        registries = self.registries or BUILD_REGISTRIES
        t = value['type']
        if isinstance(t, str):
            cls = _lookup(t, registries)
            if cls is None:
                where = (' or '.join(f'the {r.name!r} registry' for r in registries) if self.registries
                         else 'any wsss registry')
                hint = difflib.get_close_matches(t, sorted(_registry_names(registries)), n=1, cutoff=0.6)
                problems.append(Problem(_join(path, 'type'), f'{t!r} is not registered in {where}'
                                        + (f'; did you mean {hint[0]!r}?' if hint else '')))
                return
        else:
            cls = t
        names, is_open = accepted_args(cls)
        defaults = _dict_defaults(cls)
        children = {**{k: (Fields(v) if inspect.isclass(v) else v)
                       for k, v in dict(getattr(cls, 'nested_configs', {}) or {}).items()}, **self.children}
        valid = set(names) | self.extra | {'type'}
        name = getattr(cls, '__name__', str(cls))
        for key, v in value.items():
            if key in MMENGINE_KEYS or key == 'type':
                continue
            if not is_open and key not in valid:
                problems.append(Problem(_join(path, key), f'not an argument of {name}; '
                                        + _suggest(path, str(key), valid - {'type'})))
                continue
            child = children.get(key)
            if child is not None:
                child.check(v, _join(path, key), problems)
            elif isinstance(v, Mapping) and 'type' in v:
                Built().check(v, _join(path, key), problems)
            elif isinstance(v, Mapping) and key in defaults:  # e.g. head.sal_loss=dict(tau=...) without a type:
                # checked against the default's class (the builder will also ask for the type: nothing merges)
                Built().check({**v, 'type': defaults[key]}, _join(path, key), problems)
            elif isinstance(v, (list, tuple)):
                for i, item in enumerate(v):
                    if isinstance(item, Mapping) and 'type' in item:
                        Built().check(item, _join(_join(path, key), i), problems)


# -- the top level --------------------------------------------------------------------------------------------
@CONFIG_SECTIONS.register_module()
def core_sections(cfg) -> dict:
    """``model`` (the stage's model: CAM classifier, segmenter or saliency model, from its registry) and mmengine's
    ``custom_imports`` (modules imported while the config is read)."""
    return {'model': Built(), 'custom_imports': Keys(('imports', 'allow_failed_imports'))}


def top_level_schema(cfg) -> dict[str, Optional[Spec]]:
    """Every top-level key some part of the pipeline reads, with its schema (``CONFIG_SECTIONS``)."""
    CONFIG_SECTIONS.import_from_location()
    schema: dict[str, Optional[Spec]] = {}
    owner: dict[str, str] = {}
    for fname, fn in CONFIG_SECTIONS.module_dict.items():
        for key, spec in fn(cfg).items():
            if key in schema:
                raise RuntimeError(f'top-level config key {key!r} is declared by both {owner[key]} and {fname}')
            schema[key], owner[key] = spec, fname
    return schema


def _from_options(path: str, options: Optional[Mapping]) -> bool:
    return any(path == k or path.startswith(f'{k}.') for k in (options or {}))


def check_config_keys(cfg, options: Optional[Mapping] = None, source: Optional[str] = None) -> None:
    """Raise one :class:`ConfigKeyError` naming every key of ``cfg`` that nothing reads (see the module
    docstring); ``options`` are the ``--cfg-options`` that were merged in (their keys are marked as such)."""
    schema = top_level_schema(cfg)
    problems: list[Problem] = []
    top = Keys(schema, children=schema, skip_private=True)
    top.check(cfg.to_dict() if hasattr(cfg, 'to_dict') else dict(cfg), '', problems)
    if not problems:
        return
    problems.sort(key=lambda p: p.path)
    lines = [f'  {p.path}' + (' (from --cfg-options)' if _from_options(p.path, options) else '') + f': {p.message}'
             + ('' if '.' in p.path else f" (a value only config files read is named with a leading '_': _{p.path})")
             for p in problems]
    where = source or getattr(cfg, 'filename', None) or 'config'
    n = len(problems)
    raise ConfigKeyError(f'{where}: {n} unknown config key{"s" if n > 1 else ""} (a typo, or a key nothing '
                         'reads):\n' + '\n'.join(lines), problems)
