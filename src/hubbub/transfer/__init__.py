"""Moving posts in and out of the store: file import and export."""
