"""The program space: AutoML-Zero's learning algorithms as genomes.

- :mod:`.ops`: the op set; :mod:`.genome`: the fixed-shape program genome;
- :mod:`.variation`: random programs and mutations; :mod:`.space`: the space;
- :mod:`.interpreter`: the batched interpreter; :mod:`.tasks`: the tasks;
- :mod:`.liveness`: dead code; :mod:`.source`: listings; :mod:`.export`: code;
- :mod:`.programs`: hand-written programs; :mod:`.components`: registration.
"""
