"""What a newcomer opens first besides the app: the API docs page and the browser's icon."""


def test_the_api_document_speaks_markdown_not_rest(client):
    document = client.get("/api/v1/openapi.json").get_data(as_text=True)
    assert "``" not in document
    summaries = [op.get("description", "") + op.get("summary", "")
                 for path in client.get("/api/v1/openapi.json").get_json()["paths"].values()
                 for op in path.values() if isinstance(op, dict)]
    assert any("`" in text for text in summaries), "code still marked, as Markdown"


def test_the_browser_finds_an_icon_at_favicon_ico(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert len(response.data) > 100
