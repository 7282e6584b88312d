"""Files, read and written safely; the layer just above :mod:`simulator.errors`, below everything else.

* ``validation``: a YAML file read into a checked pydantic model, every problem one line naming the key;
* ``atomic``: writes that replace a file or folder whole or not at all;
* ``output_guard``: which output folders and files a command may replace (only its own);
* ``digest``: SHA-256 of the files a run read, for manifests and sweep point keys.

May import: the standard library, pydantic, yaml, and :mod:`simulator.errors`.
"""
