"""The console at /console/ in a real browser (Debian's chromium, driven by Playwright): the seed's walkthrough."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.aws.conftest import KEY, SECRET, Live, start_in_thread

CHROMIUM = Path("/usr/bin/chromium")
# Set to a folder (README: docs/console) to keep the pages' screenshots; else they go to tmp.
SCREENSHOTS_ENV = "ZFISH_CONSOLE_SCREENSHOTS"
ETL_SCRIPT = Path(__file__).parents[3] / "etl" / "joined_fish_data.py"
BUCKET = "my-data-bucket"
PREFIX = "use-cases/fish-demo"
DB = "zebra_fish_demo"
# A crawl or a query takes seconds; a Glue job run (Spark, JVM Hudi) up to a few minutes.
SHORT_MS = 120_000
JOB_MS = 900_000

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless chromium for the module; fails on CI without it, skips elsewhere."""
    from tests.support import unavailable

    if not CHROMIUM.exists():
        unavailable(
            f"the console's browser tests must run on CI: {CHROMIUM} is missing "
            "(make chromium installs it: apt-get install -y chromium)",
            f"no {CHROMIUM} (apt-get install -y chromium; make test tries it)",
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """One endpoint over an empty lake, for the whole module."""
    root = tmp_path_factory.mktemp("console")
    running = start_in_thread(root / "lake")
    try:
        yield Live(running.url, running.context.layout, root / "aws-home")
    finally:
        running.stop()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get(SCREENSHOTS_ENV)
    path = Path(folder) if folder else tmp_path_factory.mktemp("console-shots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sign_in(page: Any, url: str, secret: str = SECRET) -> None:
    page.goto(f"{url}/console/")
    page.fill("input[name=access_key]", KEY)
    page.fill("input[name=secret_key]", secret)
    page.click("button:text('Sign in')")


def test_a_missing_or_wrong_credential_is_refused(browser: Any, live: Live) -> None:
    context = browser.new_context()
    page = context.new_page()
    # No session: every page sends the browser to the sign-in form, and a POST is refused.
    page.goto(f"{live.url}/console/catalog")
    assert "/console/login" in page.url
    assert page.locator("input[name=secret_key]").count() == 1
    refused = context.request.post(f"{live.url}/console/catalog", form={"name": "sneaky"})
    assert refused.status == 403
    # A wrong secret: the endpoint's own signature check says no, and the page says why.
    _sign_in(page, live.url, secret="not-the-secret")
    assert "/console/login" in page.url
    assert "InvalidSignatureException" in page.locator("#error").inner_text()
    # Signed in, a POST without the form's CSRF token is still refused.
    _sign_in(page, live.url)
    assert page.url.endswith("/console/catalog")
    forged = context.request.post(f"{live.url}/console/catalog", form={"name": "forged"})
    assert forged.status == 403
    assert "forged" not in {d["Name"] for d in live.client("glue").get_databases()["DatabaseList"]}
    cookie = next(c for c in context.cookies() if c["name"] == "zfish_console")
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Strict"
    context.close()


def test_the_seed_walkthrough_through_the_console(
    browser: Any, live: Live, default_study: Path, hudi_bundle: Path, shots: Path
) -> None:
    from playwright.sync_api import expect

    from zfish.lake.upload import upload

    started = time.monotonic()
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    _sign_in(page, live.url)

    # 1. the database
    page.fill("#database-name", DB)
    page.click("#add-database")
    expect(page.locator("h1")).to_have_text(f"{DB}: tables")
    assert live.client("glue").get_database(Name=DB)["Database"]["Name"] == DB
    page.goto(f"{live.url}/console/catalog")
    page.screenshot(path=shots / "catalog.png")

    # 2. zfish upload to 2025-05-10 (the walkthrough's own upload, not a console step)
    upload(default_study, live.layout, date(2025, 5, 10), show_progress=False)

    # 3. both crawlers, added and run in the console until READY
    for table in ("observations", "outcomes"):
        page.goto(f"{live.url}/console/crawlers")
        form = page.locator("#add-crawler")
        form.locator("input[name=name]").fill(f"{table}-crawler")
        form.locator("input[name=path]").fill(f"s3://{BUCKET}/{PREFIX}/{table}/")
        form.locator("select[name=database]").select_option(DB)
        form.locator("button").click()
        expect(page.locator(f"tr[data-crawler='{table}-crawler'] .state")).to_have_text("READY")
    for table in ("observations", "outcomes"):
        page.locator(f"tr[data-crawler='{table}-crawler'] button").click()
    for table in ("observations", "outcomes"):
        row = page.locator(f"tr[data-crawler='{table}-crawler']")
        expect(row.locator(".state")).to_have_text("READY", timeout=SHORT_MS)
        expect(row.locator(".last")).to_have_text("SUCCEEDED", timeout=SHORT_MS)
    page.screenshot(path=shots / "crawlers.png")
    # the partitions each run added: the outcomes of 2025-05-06 .. 05-09
    expect(page.locator("tr[data-crawler='outcomes-crawler'] .partitions")).to_have_text("4 (+4)")

    # the table's columns in Glue types, and its partition key
    page.goto(f"{live.url}/console/catalog/{DB}/outcomes")
    columns = page.locator("#columns").inner_text()
    assert re.search(r"fish_id\s+string", columns), columns
    assert re.search(r"condition_developed\s+boolean", columns), columns
    assert re.search(r"day\s+string\s+Partition", columns), columns
    assert page.locator("#partitions tr").count() - 1 == 4  # days 05-06 .. 05-09
    page.screenshot(path=shots / "table.png", full_page=True)

    # 4. the first query, from the editor with Ctrl-Enter
    sql_rows = _query(page, live, f'SELECT * FROM "{DB}"."outcomes" limit 3;')
    header = page.locator("#results tr").first.inner_text().split("\t")
    assert {"fish_id", "condition_developed", "day"} <= {h.strip() for h in header}, header
    assert sql_rows == 3
    # the query that ran, highlighted (Pygments' keyword class)
    assert "SELECT" in page.locator("#query-sql .k").all_inner_texts()
    assert page.locator("#scanned").inner_text().endswith("B")
    download = page.locator("#download-csv")
    with page.expect_download() as got:
        download.click()
    csv = Path(got.value.path()).read_text().splitlines()
    assert len(csv) == 4
    assert "fish_id" in csv[0]
    page.screenshot(path=shots / "athena.png", full_page=True)

    # a bad query shows Athena's own error text
    _run(page, live, f'SELECT fish_idd FROM "{DB}"."outcomes"')
    expect(page.locator("#query-state")).to_have_text("FAILED", timeout=SHORT_MS)
    error = page.locator("#query-error").inner_text()
    assert "fish_idd" in error, error
    assert "line 1:8" in error.lower(), error
    page.screenshot(path=shots / "athena-error.png", full_page=True)

    # a positive label's fish shows red in the image preview
    _positive_fish_is_red(page, live, shots)

    # 5. the job, added in the console and run with --END_DATE
    live.client("s3").upload_file(str(ETL_SCRIPT), BUCKET, "scripts/joined_fish_data.py")
    page.goto(f"{live.url}/console/jobs")
    page.fill("input[name=name]", "joined_fish_data")
    page.fill("input[name=script]", f"s3://{BUCKET}/scripts/joined_fish_data.py")
    page.click("button:text('Create job')")
    _run_job(page, "2025-05-10T18:00:00")
    page.screenshot(path=shots / "job.png", full_page=True)

    # 6. 60 rows in the joined table (the grid pages 50 at a time, like Athena's)
    assert _query(page, live, f'SELECT * FROM "{DB}"."joined_fish_data";') == 60

    # 7. the next day: upload, both crawlers again, the job to 2025-05-11 18:00
    upload(default_study, live.layout, date(2025, 5, 11), show_progress=False)
    page.goto(f"{live.url}/console/crawlers")
    for table in ("observations", "outcomes"):
        page.locator(f"tr[data-crawler='{table}-crawler'] button").click()
    for table in ("observations", "outcomes"):
        row = page.locator(f"tr[data-crawler='{table}-crawler']")
        expect(row.locator(".state")).to_have_text("READY", timeout=SHORT_MS)
    expect(page.locator("tr[data-crawler='outcomes-crawler'] .partitions")).to_have_text("5 (+1)")
    page.goto(f"{live.url}/console/jobs/joined_fish_data")
    _run_job(page, "2025-05-11T18:00:00")
    assert _query(page, live, f'SELECT * FROM "{DB}"."joined_fish_data";') == 75
    page.goto(f"{live.url}/console/jobs")
    page.screenshot(path=shots / "jobs.png", full_page=True)

    # 8. the Hudi timeline, and the first commit's snapshot: 60 rows
    page.goto(f"{live.url}/console/catalog/{DB}/joined_fish_data")
    page.click("#hudi-link")
    timeline = page.locator("#timeline tr")
    assert timeline.count() - 1 == 2
    first = timeline.nth(1).inner_text()
    assert "2025-05-10T18:00:00" in first, first
    assert re.search(r"\t60\t0\t\d+", first), first  # 60 inserted, none updated
    page.screenshot(path=shots / "hudi.png", full_page=True)
    timeline.nth(1).locator("a.as-of").click()
    assert "FOR VERSION AS OF" in page.locator("#sql").input_value()
    page.press("#sql", "Control+Enter")
    assert _count_rows(page) == 60

    page.goto(f"{live.url}/console/study")
    expect(page.locator("#study-plot")).to_be_visible()
    page.screenshot(path=shots / "study.png", full_page=True)
    page.close()
    print(f"console walkthrough: {time.monotonic() - started:.0f} s")


def _run(page: Any, live: Live, sql: str) -> None:
    page.goto(f"{live.url}/console/athena")
    page.locator("#database").select_option(DB)
    page.fill("#sql", sql)
    page.press("#sql", "Control+Enter")


def _query(page: Any, live: Live, sql: str) -> int:
    _run(page, live, sql)
    return _count_rows(page)


def _count_rows(page: Any) -> int:
    """The rows of the result, page by page through the grid's Next links."""
    from playwright.sync_api import expect

    expect(page.locator("#query-state")).to_have_text("SUCCEEDED", timeout=SHORT_MS)
    total = int(page.locator("#row-count").inner_text())
    while page.locator("#next-results").count():
        page.click("#next-results")
        total += int(page.locator("#row-count").inner_text())
    return total


def _run_job(page: Any, end: str) -> None:
    from playwright.sync_api import expect

    page.fill("#end-date", end)
    page.click("#run-job button")
    row = page.locator("#runs tr").nth(1)
    expect(row.locator(".state")).to_have_text("SUCCEEDED", timeout=JOB_MS)
    assert end in row.inner_text()


def _positive_fish_is_red(page: Any, live: Live, shots: Path) -> None:
    """The preview of a sick fish's late image is red, a healthy one's is not."""
    import io

    from PIL import Image

    sql = (
        f'SELECT fish_id, condition_developed FROM "{DB}"."outcomes" '
        "ORDER BY condition_developed DESC, fish_id"
    )
    assert _query(page, live, sql) > 0
    rows = [r.split("\t")[1:] for r in page.locator("#results tr").all_inner_texts()[1:]]
    labels = {fish.strip(): flag.strip() == "true" for fish, flag in rows}
    page.goto(f"{live.url}/console/lake?bucket={BUCKET}&prefix={PREFIX}/images/")
    days = [a.inner_text() for a in page.locator("#objects a").all()]
    assert days
    assert all(d.startswith("day=") for d in days), days
    keys: list[str] = []
    for day in days:
        page.goto(f"{live.url}/console/lake?bucket={BUCKET}&prefix={PREFIX}/images/{day}")
        strip = page.locator("#strip img")
        assert strip.count() > 0, day
        keys += [str(img.get_attribute("alt")) for img in strip.all()]
    page.screenshot(path=shots / "lake.png", full_page=True)

    def redness(key: str) -> float:
        page.goto(f"{live.url}/console/lake/object?bucket={BUCKET}&key={key}")
        shot = page.locator("#preview-image").screenshot()
        r, g, b = Image.open(io.BytesIO(shot)).convert("RGB").resize((1, 1)).getpixel((0, 0))
        return float(r - (g + b) / 2)

    def fish_of(key: str) -> str:
        return key.rpartition("/")[2].removesuffix(".png")[:-3]

    # The oldest image of each fish first: a sick fish's red rises with age.
    keys.sort(key=lambda k: k.rpartition("/")[2], reverse=True)
    sick = [k for k in keys if labels.get(fish_of(k))]
    healthy = [k for k in keys if labels.get(fish_of(k)) is False]
    assert sick, (labels, keys[:5])
    assert healthy, (labels, keys[:5])
    red = [k for k in sick[:12] if redness(k) > 100]
    assert red, "no positive-label fish looks red in the preview"
    page.goto(f"{live.url}/console/lake/object?bucket={BUCKET}&key={red[0]}")
    page.screenshot(path=shots / "image.png", full_page=True)
    assert redness(healthy[0]) < 40
