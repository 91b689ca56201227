// Public API of src/experiments (filled in by its issue).
export {};
