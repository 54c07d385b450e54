"""Storage of the collected static files in production (``DEBUG`` off).

WhiteNoise's compressed manifest storage (hashed names, ``.gz`` beside each file, for
nginx's ``gzip_static`` and WhiteNoise), except that JavaScript's ``sourceMappingURL``
comments are left as they are: the vendor packages (XStatic's Leaflet.markercluster) name
``.map`` files they do not ship, and Django's storage stops ``collectstatic`` at the first
missing one. Only the browser's developer tools ever ask for those files.
"""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    patterns = tuple(
        (glob, rules)
        for glob, rules in CompressedManifestStaticFilesStorage.patterns
        if glob != "*.js"
    )
