"""Datasets of the experiments, held as whole tensors so the trainer batches by indexing."""
