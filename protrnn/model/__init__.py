"""Models: the zoo, batching, checkpoints, the train loop and inference."""
