"""Teaching with labkit: release student notebooks, collect them, regrade them.

- :mod:`labkit.grading.notebook`: read submissions, stub solutions, find a notebook's lesson.
- :mod:`labkit.grading.release`: ``labkit release`` (student versions of every lesson).
- :mod:`labkit.grading.checks`: the graded checks of a lesson (visible ones from
  ``labkit.checks``, hidden ones from ``instructor/hidden_checks``, never shipped to learners).
- :mod:`labkit.grading.engine`: execute a submission in a warm, single-use kernel attached
  to the grader's emulator.
- :mod:`labkit.grading.regrade`: ``labkit regrade`` (batch, shards, skip, merge).
- :mod:`labkit.grading.report`: grades.csv, summary.csv, report.html, feedback files.
"""
