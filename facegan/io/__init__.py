"""Files and images: the pixel range, atomic writes, image files and grids, the face datasets, saved models,
run folders and checkpoints, and progress bars."""
