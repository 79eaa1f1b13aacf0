"""Reading documents into structural elements, and cutting them into chunks and units."""
