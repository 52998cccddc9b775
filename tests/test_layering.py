"""The package's layers import only downward (docs/ARCHITECTURE.md), and no tool edits ``sys.path``.

Every ``import`` / ``from ... import`` of every module under ``wsss/`` (function-level ones included) is read
with ``ast``; a module may import its own top-level package and packages of a strictly lower layer.
"""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / 'wsss'

#: layer of each top-level part of ``wsss`` (lower = more basic)
LAYERS = {
    'utils': 0, 'registry': 0,
    'engine': 1,
    'datasets': 2, 'metrics': 2, 'models': 2, 'report': 2,
    'crf': 3, 'pseudo': 3, 'saliency': 3,
    'stages': 4,
    'drivers': 5,
}


def _part(module: str) -> str:
    """'wsss.stages.cam.train' -> 'stages'."""
    parts = module.split('.')
    return parts[1] if len(parts) > 1 else ''


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix('')
    parts = list(rel.parts)
    if parts[-1] == '__init__':
        parts = parts[:-1]
    return '.'.join(parts)


def _imports(path: Path, module: str) -> list[tuple[int, str]]:
    """(line, absolute module name) of each wsss import in the file of ``module`` (relative imports resolved)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    here = module.split('.')
    is_pkg = path.name == '__init__.py'
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.split('.')[0] == 'wsss']
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here if is_pkg else here[:-1]
                base = base[:len(base) - (node.level - 1)]
                mod = '.'.join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ''
            if mod.split('.')[0] == 'wsss':
                # `from wsss import x` / `from wsss.stages import cam`: the names may be sub-modules
                out += [(node.lineno, f'{mod}.{a.name}' if mod.count('.') < 1 else mod) for a in node.names]
    return sorted(out)


MODULES = sorted(p for p in PACKAGE.rglob('*.py'))


def test_every_part_has_a_layer():
    parts = {p.relative_to(PACKAGE).parts[0].removesuffix('.py') for p in MODULES} - {'__init__'}
    assert parts == set(LAYERS), f'give these a layer in LAYERS: {sorted(parts - set(LAYERS))}'


def _upward(path: Path, module: str) -> list[str]:
    own = _part(module)
    return [f'line {ln}: {mod} (layer {LAYERS[_part(mod)]})' for ln, mod in _imports(path, module)
            if _part(mod) != own and LAYERS[_part(mod)] >= LAYERS[own]]


@pytest.mark.parametrize('path', MODULES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_imports_go_down(path):
    module = _module_name(path)
    if module == 'wsss':
        return
    upward = _upward(path, module)
    assert not upward, f'{module} (layer {LAYERS[_part(module)]}) imports sideways or upward: {upward}'


def test_the_checker_sees_upward_and_sideways_imports(tmp_path):
    """The check above can fail: function-level, relative and sideways imports are all caught."""
    probe = tmp_path / 'probe.py'
    probe.write_text('from wsss.utils.io import read_lines\n'
                     'def f():\n    from wsss.stages.pseudo import make\n'
                     'from ..models import loading\n'
                     'from wsss import drivers\n')
    assert _upward(probe, 'wsss.metrics.probe') == ['line 3: wsss.stages.pseudo (layer 4)',
                                                    'line 4: wsss.models (layer 2)',
                                                    'line 5: wsss.drivers (layer 5)']


def test_no_tool_touches_sys_path():
    offenders = [p.name for p in (ROOT / 'tools').glob('*.py') if 'sys.path' in p.read_text()]
    assert not offenders
