"""The plain JSON API: ``POST /api/ask``, ``GET /api/documents`` (and each one's text), ``GET /api/health``,
documented in the OpenAPI schema."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, HTTPException, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from qa.answer.reply import ReplyJSON, to_json
from qa.engine import MAX_K, Engine, QuestionError


class AskRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"question": "Qui mène la réunion des conseillers ?", "k": 5}]}
    )

    question: StrictStr = Field(description="The reader's question, in French or English.")
    k: Annotated[StrictInt, Field(ge=1, le=MAX_K)] | None = Field(
        default=None, description=f"Number of passages to return (1..{MAX_K}); default 5."
    )
    previous: StrictStr | None = Field(
        default=None, description="For follow-ups such as 'Et la Russie ?': the `leans_on` of the reply before"
    )
    documents: list[StrictStr] | None = Field(
        default=None, description="Ask these documents only: their ids, as GET /api/documents lists them."
    )
    reading: Literal["auto", "alone", "with_previous"] = Field(
        default="auto",
        description="How a question after `previous` is read: 'auto' (with it only when it leans on it: "
        "'Et la Russie ?', 'Who leads it?'), 'alone', or 'with_previous' (what a reply's other_reading offers).",
    )


class DocumentInfo(BaseModel):
    id: str = Field(description="The document's path in the corpus: its id in citations and in its text's route")
    title: str
    format: str = Field(description="text, markdown, html, pdf or docx (told from the content)")
    date: str = Field(description="ISO 8601: the document's own date where its metadata has one, else the file's")
    language: str
    pages: int = Field(description="Pages of a PDF (0 for other documents)")
    chars: int = Field(description="Characters of the text as indexed (GET /api/documents/{id}/text)")


class Health(BaseModel):
    status: str
    documents: int
    chunks: int
    model: str
    index: str
    problems: list[str] = Field(description="Corpus files skipped when the index was built, each with the reason")


def api_router(engine: Engine) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["api"])

    @router.post(
        "/ask",
        response_model=ReplyJSON,
        response_model_exclude_none=True,
        summary="Answer a question with cited, verbatim extracts of the briefing",
        responses={422: {"description": "Invalid question or k"}, 413: {"description": "Request body too large"}},
    )
    async def ask(request: AskRequest) -> Response:
        try:
            reply = await engine.ask_async(**request.model_dump())  # the request's fields are ask's parameters
        except QuestionError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        # Serialised directly: to_json's output is the documented ReplyJSON (tested), and validating
        # it again through pydantic cost more CPU than retrieval itself.
        return Response(orjson.dumps(to_json(reply)), media_type="application/json")

    @router.get("/health", response_model=Health, summary="Whether the engine is loaded and ready to answer")
    async def health() -> dict[str, Any]:
        index = engine.index
        return {
            "status": "ready",
            "documents": len(index.documents),
            "chunks": len(index.chunks),
            "model": engine.settings.model,
            "index": index.path.name,
            "problems": index.manifest["corpus"].get("problems", []),
        }

    @router.get("/documents", response_model=list[DocumentInfo], summary="The documents the chatbot answers from")
    async def documents() -> list[dict[str, Any]]:
        catalogue = engine.index.catalogue
        return [
            {
                "id": path,
                "title": entry.get("title", ""),
                "format": entry.get("format", "text"),
                "date": entry.get("date", ""),
                "language": entry.get("language", ""),
                "pages": len(entry.get("pages") or ()),
                "chars": entry["chars"],
            }
            for path, entry in catalogue.items()
        ]

    @router.get(
        "/documents/{doc_id:path}/text",
        response_class=PlainTextResponse,
        summary="A document's text as indexed: every citation's start and end are offsets into it",
        responses={404: {"description": "No such document"}},
    )
    async def document_text(doc_id: str) -> PlainTextResponse:
        text = engine.index.documents.get(doc_id)
        if text is None:
            raise HTTPException(status_code=404, detail=f"no document {doc_id!r} (GET /api/documents lists them)")
        return PlainTextResponse(text)

    return router
