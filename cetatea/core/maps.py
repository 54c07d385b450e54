"""What a Leaflet page needs to draw its map: ``{{ map_config|json_script:"map-config" }}``,
read by ``portal/common.js`` (``Cetatea.map``)."""

from __future__ import annotations

from django.conf import settings


def map_config() -> dict:
    """Tile URL, attribution, centre and zoom of the city's map, from the settings."""
    return {
        "tiles": settings.CETATEA_TILE_URL,
        "attribution": settings.CETATEA_TILE_ATTRIBUTION,
        "center": settings.CETATEA_MAP_CENTER,
        "zoom": settings.CETATEA_MAP_ZOOM,
    }
