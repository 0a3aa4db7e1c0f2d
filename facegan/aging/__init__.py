"""Face aging: the algorithm (Age-cGAN style), reading photos and finding their faces, placing the change back in
the photo, writing the results, and the run's gender reader and strength table."""
