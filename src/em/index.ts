// Public API of src/em (filled in by its issue).
export {};
