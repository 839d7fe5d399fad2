"""The directory endpoints the app's form reads: codes, names in both languages, the tree, ETags."""
from __future__ import annotations


def test_categories_with_names_and_etag(client):
    response = client.get("/api/v1/categories")
    assert response.status_code == 200
    fields = response.get_json()
    assert len(fields) == 12
    traffic = next(f for f in fields if f["code"] == "traffic")
    assert traffic["name_vi"] == "Giao thông" and traffic["service_code"] == "TRAFFIC"
    again = client.get("/api/v1/categories", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_area_tree_has_the_province_at_the_root(client):
    tree = client.get("/api/v1/areas?tree=true").get_json()
    assert [a["code"] for a in tree] == ["27"]
    districts = tree[0]["children"]
    assert len(districts) == 8
    assert all(ward["parent_code"] == districts[0]["code"] for ward in districts[0]["children"])
    flat = client.get("/api/v1/areas").get_json()
    assert len(flat) == 71
    children = client.get("/api/v1/areas?parent=256").get_json()
    assert children and {a["parent_code"] for a in children} == {"256"}
    assert client.get("/api/v1/areas?parent=nope").get_json() == []


def test_agencies_filtered_by_area_and_kind(client):
    agencies = client.get("/api/v1/agencies").get_json()
    assert len(agencies) >= 40
    police = client.get("/api/v1/agencies?kind=police").get_json()
    assert police and all(a["kind"] == "police" for a in police)
    assert all(a["area_code"] == "27" for a in client.get("/api/v1/agencies?area=27").get_json())


def test_health_and_readiness(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["checks"] == {"database": "ok", "redis": "ok"}


def test_openapi_document_and_docs_page_without_cdn(client):
    spec = client.get("/api/openapi.json").get_json()
    assert "/api/v1/feedback" in spec["paths"]
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/api/docs/assets/swagger-ui-bundle.js" in html and "cdn" not in html.lower()
    assert client.get("/api/docs/assets/swagger-ui-bundle.js").status_code == 200
