"""The Reason RM (docs/reason-rm.md): the reward model (model.py), its losses (losses.py), training from
TraceLift-Groups files (train.py, ``python -m tracelift_backend.rm.train``) and the scoring server in
the official ``/score`` protocol (serve.py, ``python -m tracelift_backend.rm.serve``)."""
