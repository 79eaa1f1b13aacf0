"""The web UI (Gradio), the HTTP API and what an intranet page needs to embed the chatbot."""
