"""A small raster renderer for the report figures: numpy, OpenCV and Pillow instead of matplotlib."""
