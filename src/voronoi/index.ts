// Public API of src/voronoi (filled in by its issue).
export {};
