"""Reports: result tables from run records and qualitative grids."""
