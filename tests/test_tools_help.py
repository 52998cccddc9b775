"""Every tool answers --help (its docstring with examples, and each flag explained) and is a thin entry point."""
import pytest

from tools_cli import TOOLS_DIR, load_tool

TOOLS = sorted(p.stem for p in TOOLS_DIR.glob('*.py'))


@pytest.mark.parametrize('name', TOOLS)
def test_help(name, capsys):
    tool = load_tool(name)
    with pytest.raises(SystemExit) as e:
        tool.main(['--help'])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith('usage:') and tool.__doc__.strip().splitlines()[0] in out


@pytest.mark.parametrize('name', TOOLS)
def test_tools_are_thin(name):
    """A tool parses and calls into wsss: no model, training or I/O code of its own."""
    assert len((TOOLS_DIR / f'{name}.py').read_text().splitlines()) <= 70
