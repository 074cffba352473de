"""The clean-notebook rules themselves, on outputs made by hand (each rule can fail)."""
from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_output

from tests.notebooks import clean


def _nb(source, *outputs, tags=()):
    cell = new_code_cell(source, outputs=list(outputs))
    if tags:
        cell.metadata["tags"] = list(tags)
    return nbformat.v4.new_notebook(cells=[cell])


def _stream(text, name="stdout"):
    return new_output("stream", name=name, text=text)


def test_a_clean_cell_has_no_problems():
    assert clean.problems(_nb("print(1)", _stream("1\n")), "x") == []


def test_a_warning_box_is_a_problem_even_where_stderr_is_expected():
    nb = _nb("plot()", _stream("/x.py:3: UserWarning: set_ticklabels()\n", "stderr"),
             tags=[clean.EXPECT_STDERR])
    assert "warning box" in clean.problems(nb, "x")[0]


def test_stderr_needs_the_cells_tag():
    nb = _nb("!aws s3 ls", _stream("upload failed\n", "stderr"))
    assert "unexpected stderr" in clean.problems(nb, "x")[0]
    nb.cells[0].metadata["tags"] = [clean.EXPECT_STDERR]
    assert not [p for p in clean.problems(nb, "x") if "stderr" in p]


def test_a_shell_cell_with_a_placeholder_or_an_error_is_a_problem():
    nb = _nb('!aws s3api head-object --profile {admin} --query "{Size: ContentLength}"',
             _stream("\nThe config profile ({admin}) could not be found\n"))
    found = clean.problems(nb, "x")
    assert any("placeholder {admin}" in p for p in found)
    assert any("shell command failed" in p for p in found)


def test_a_raw_boto3_response_and_an_oversized_output_are_problems():
    raw = new_output("execute_result", data={"text/plain": "{'ResponseMetadata': {}}"},
                     execution_count=1)
    assert "raw boto3 response" in clean.problems(_nb("s3.get_x()", raw), "x")[0]
    big = _stream("x" * (clean.TEXT_BOUND + 1))
    assert "characters" in clean.problems(_nb("print(x)", big), "x")[0]


def test_the_cost_estimate_once_per_lesson():
    line = "the load balancer: free here (emulator). On AWS this would cost about $0.1/hour\n"
    nb = _nb("a()", _stream(line))
    nb.cells.append(new_code_cell("b()", outputs=[_stream(line)]))
    assert "2 times" in clean.problems(nb, "x")[-1]


def test_a_printed_list_of_dicts_is_a_problem():
    nb = _nb("print(reasons)", _stream("FAIL [{'description': 'x', 'statementIndex': 0}]\n"))
    assert "list of dicts" in clean.problems(nb, "x")[0]
