"""Directory routes: cacheable lists (ETag) for the citizen app's form."""
from __future__ import annotations

from flask.views import MethodView

from feedback_app.extensions import Blueprint
from feedback_app.resources.directory.schemas import (
    AgencyQuerySchema,
    AgencySchema,
    AreaQuerySchema,
    AreaSchema,
    CategorySchema,
)
from feedback_app.services import directory_views

blp = Blueprint("directory", __name__, url_prefix="/api/v1", description="Fields, areas and agencies.")


@blp.route("/categories")
class Categories(MethodView):
    @blp.etag
    @blp.response(200, CategorySchema(many=True))
    def get(self):
        """The fields (categories) a citizen can choose, with Vietnamese and English names."""
        return directory_views.list_categories()


@blp.route("/areas")
class Areas(MethodView):
    @blp.etag
    @blp.arguments(AreaQuerySchema, location="query")
    @blp.response(200, AreaSchema(many=True))
    def get(self, query):
        """The administrative areas, as a list or as a tree."""
        return directory_views.list_areas(**query)


@blp.route("/agencies")
class Agencies(MethodView):
    @blp.etag
    @blp.arguments(AgencyQuerySchema, location="query")
    @blp.response(200, AgencySchema(many=True))
    def get(self, query):
        """The agencies that handle items, with the area each serves."""
        return directory_views.list_agencies(**query)
