"""Test program: the site alone, with a dist directory chosen by config.

Config: multi-region-app:testDistDir (path of a built web app, may be absent) and deploySiteFiles.
The real program always reads webapp/dist; this one lets tests supply their own.
"""

from pathlib import Path

import pulumi

from components.regions import create_region_pair
from components.settings import settings_from_pulumi
from components.website import SiteContent, SiteContentArgs, SiteHosting, SiteHostingArgs, built_site

UI_CONFIG = {"appId": "test-app", "uiRegion": "us-east-1"}

settings = settings_from_pulumi()
dist_dir = built_site(settings.deploy_site_files, Path(pulumi.Config().require("testDistDir")))
regions = create_region_pair(settings)
site = SiteHosting(
    "site",
    SiteHostingArgs(prefix=settings.prefix, regions=regions, account_id="123456789012"),
)
SiteContent(
    "site-content",
    SiteContentArgs(
        hosting=site,
        ui_config=pulumi.Output.from_input(UI_CONFIG),
        dist_dir=dist_dir,
    ),
)
pulumi.export("siteUrl", site.url)
