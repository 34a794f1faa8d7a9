"""A tiny app installed only in tests (clinic/settings/test.py): a model with a state machine
and its event rows, so core's transition helper and access layer are tested on core alone."""
