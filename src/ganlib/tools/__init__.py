"""Commands that build the book's artifacts, not imported by chapters.

``python -m ganlib.tools.<name>``: ``student``, ``colab`` and ``nbgrader_edition`` (the
editions), ``exercises``, ``term_plan`` and ``wordcount`` (generated pages, sharing
``pages``), ``timings`` (the full-profile time table), ``bookcache`` (hands the executed
notebooks to the book build) and ``versions`` (declared lower bounds against what is
installed).
"""
