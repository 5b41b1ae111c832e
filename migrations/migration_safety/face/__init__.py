"""The face: the command line's parser and dispatch, rendering for people and machines, and logging output."""
