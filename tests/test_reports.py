"""TestReports, evaluated alone, and the `reports:` section it pairs with."""

from __future__ import annotations

import pytest
import yaml

from harness.capture import StackGraph
from pipeline.provider import AwsAccount
from pipeline.reports import (
    COVERAGE_REPORT_GROUP_VARIABLE,
    EXPORT_PREFIX,
    TEST_REPORT_GROUP_VARIABLE,
    TestReports,
    TestReportsArgs,
    report_group_pattern,
    reports_section,
)
from pipeline.settings import Settings
from tests.support import BUCKET, KEY_ARN, evaluate_component, fixed_foundation, program, settings_for

REPORT_GROUP = "aws:codebuild/reportGroup:ReportGroup"


def reports(settings: Settings, account: AwsAccount) -> None:
    names = program().stack_names(settings)
    TestReports(
        "svc-reports",
        TestReportsArgs(names=names, coverage_format="COBERTURAXML"),
        fixed_foundation(account),
        opts=account.component_options(),
    )


@pytest.fixture(scope="module")
def graph() -> StackGraph:
    return evaluate_component(reports)


def test_one_group_per_kind_of_report(graph: StackGraph) -> None:
    types = sorted((group.name, group.inputs["type"]) for group in graph.of_type(REPORT_GROUP))
    assert types == [("svc-reports-coverage", "CODE_COVERAGE"), ("svc-reports-tests", "TEST")]


def test_each_group_exports_its_raw_files_to_the_artifact_store_encrypted_with_the_pipeline_key(
    graph: StackGraph,
) -> None:
    """Reports expire after 30 days; the raw files stay as long as the artifact store keeps objects."""
    for group in graph.of_type(REPORT_GROUP):
        kind = group.name.rsplit("-", 1)[1]
        assert group.inputs["exportConfig"] == {
            "type": "S3",
            "s3Destination": {
                "bucket": BUCKET,
                "path": f"{EXPORT_PREFIX}/svc-reports/{kind}",
                "packaging": "NONE",
                "encryptionKey": KEY_ARN,
                "encryptionDisabled": False,
            },
        }


def test_a_destroy_takes_the_groups_with_their_reports(graph: StackGraph) -> None:
    """DeleteReportGroup refuses a group that holds reports unless deleteReports is set."""
    assert {group.inputs["deleteReports"] for group in graph.of_type(REPORT_GROUP)} == {True}


def test_the_groups_are_named_by_pulumi_within_the_limit(graph: StackGraph) -> None:
    """Auto-named (`<logical name>-<7 hex>`), so a replacement never collides with the old group's name."""
    for group in graph.of_type(REPORT_GROUP):
        assert "name" not in group.inputs
        assert 2 <= len(group.outputs["name"]) <= 128


def test_without_coverage_only_the_test_group() -> None:
    def only_tests(settings: Settings, account: AwsAccount) -> None:
        args = TestReportsArgs(names=program().stack_names(settings))
        TestReports("svc-reports", args, fixed_foundation(account), opts=account.component_options())

    (group,) = evaluate_component(only_tests).of_type(REPORT_GROUP)
    assert group.inputs["type"] == "TEST"


def test_an_unknown_coverage_format_is_refused() -> None:
    with pytest.raises(ValueError, match="coverage format 'LCOV'"):
        TestReportsArgs(names=program().stack_names(settings_for()), coverage_format="LCOV")  # type: ignore[arg-type]


# --- The buildspec section ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("directory", "base"), [("", "reports"), ("services/api", "services/api/reports")], ids=["root", "monorepo"]
)
def test_the_section_names_the_groups_by_their_variables_and_the_services_folder(directory: str, base: str) -> None:
    section = yaml.safe_load(reports_section(directory, "JACOCOXML"))
    assert section == {
        "reports": {
            f"${TEST_REPORT_GROUP_VARIABLE}": {
                "files": ["junit.xml"],
                "base-directory": base,
                "file-format": "JUNITXML",
            },
            f"${COVERAGE_REPORT_GROUP_VARIABLE}": {
                "files": ["coverage.xml"],
                "base-directory": base,
                "file-format": "JACOCOXML",
            },
        }
    }


def test_the_section_has_no_coverage_group_without_coverage() -> None:
    assert list(yaml.safe_load(reports_section("", None))["reports"]) == [f"${TEST_REPORT_GROUP_VARIABLE}"]


def test_one_pattern_covers_every_services_groups() -> None:
    names = program().stack_names(settings_for())
    assert report_group_pattern(names.for_service("api")) == report_group_pattern(names) == "report-group/cicd-dev-*"
