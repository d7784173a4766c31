"""docs/hooks/notebook.py: the prose around a page's cells, rewritten for Jupyter.

Oracle: small Markdown texts whose split and Jupyter form are written out by hand.
"""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.site

PAGE = """# Title

Intro with \\(x^2\\) and a [link](pooling.md#max) and [home](index.md).

```python
a = 1
```

!!! note "Words first"
    A **kernel** slides.

    Two paragraphs.

=== "tinycnn"

    ```python
    b = 2
    ```

=== "Keras"

    ```python norun
    keras()
    ```

The end."""


def test_the_prose_is_split_around_the_cells_and_rewritten_for_jupyter(hook):
    notebook = hook("notebook")
    segments = notebook.split_prose(PAGE)
    assert len(segments) == 3  # two cells (the norun block is prose)
    assert segments[0].endswith("[home](index.md).\n")
    assert "a = 1" not in "".join(segments) and "b = 2" not in "".join(segments)
    jupyter = [notebook.markdown_for_jupyter(s, "https://example.org/site/") for s in segments]
    assert jupyter[0] == ("# Title\n\nIntro with $x^2$ and a [link](https://example.org/site/pooling/#max) "
                          "and [home](https://example.org/site/).")
    assert jupyter[1] == ("> **Words first**\n>\n> A **kernel** slides.\n>\n> Two paragraphs.\n\n"
                          "**tinycnn**")
    assert jupyter[2] == "**Keras**\n\n```python\nkeras()\n```\n\nThe end."


def test_requirements_follow_the_imports(hook):
    notebook = hook("notebook")
    assert notebook.requirements(["import numpy as np"]) == ["tinycnn"]
    assert notebook.requirements(["import matplotlib.pyplot as plt",
                                  "from tinycnn.datasets import make_image_folder"]) == [
        "tinycnn", "matplotlib", "pillow"]
