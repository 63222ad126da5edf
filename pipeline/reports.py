"""CodeBuild report groups: where the Build step publishes the service's test results and coverage.

One service's Build step publishes to report groups of its own (services share nothing per step): one of
type TEST for the JUnit XML its `make test` writes, and, where the service produces coverage, one of type
CODE_COVERAGE (a report group holds one kind,
https://docs.aws.amazon.com/codebuild/latest/APIReference/API_CreateReportGroup.html).

The buildspec names the groups by ARN, passed in as environment variables: CodeBuild expands a variable
used as a `reports:` key ("The report group name can also be specified by using environment variables in
the buildspec", https://docs.aws.amazon.com/codebuild/latest/userguide/report-group-create.html), and
given an ARN it "uses that report group", while a bare name makes it create `<project-name>-<name>`
(https://docs.aws.amazon.com/codebuild/latest/userguide/report-create.html). The groups are the stack's,
so they carry its tags and go with `pulumi destroy`.

CodeBuild keeps a report for 30 days ("A report expires 30 days after it is created",
https://docs.aws.amazon.com/codebuild/latest/userguide/report-groups-sharing.html). Each group also
exports the raw result files to the artifact store, encrypted with the pipeline key; "The CodeBuild
service role specified in the project is used for permissions to upload to the S3 bucket"
(https://docs.aws.amazon.com/codebuild/latest/userguide/report-group-export-settings.html), so the build
role uploads them, under the store's lifecycle rule: they live `artifactExpiryDays`, like the artifacts.

Deleting a group that still holds reports fails unless `delete_reports` is set ("If false, you must
delete any reports in the report group",
https://docs.aws.amazon.com/codebuild/latest/APIReference/API_DeleteReportGroup.html); the reports expire within
30 days anyway and their exported files stay in the store ("Raw test result data files exported to an
S3 bucket are not deleted", https://docs.aws.amazon.com/codebuild/latest/userguide/test-report.html), so
a destroy removes the groups with their reports.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import pulumi
import pulumi_aws as aws

from pipeline.iam import Statement, statement
from pipeline.shared import SharedResources, StackNames

# The build variables that carry the groups' ARNs into the buildspec's `reports:` keys.
TEST_REPORT_GROUP_VARIABLE = "TEST_REPORT_GROUP_ARN"
COVERAGE_REPORT_GROUP_VARIABLE = "COVERAGE_REPORT_GROUP_ARN"

# The contract with the service repository: its `make test`, run in the service's folder, writes these.
REPORTS_DIRECTORY = "reports"
JUNIT_FILE = "junit.xml"
COVERAGE_FILE = "coverage.xml"

# The coverage formats CodeBuild reads that are one XML file
# (https://docs.aws.amazon.com/codebuild/latest/userguide/code-coverage-report.html); the buildspec's
# `file-format` values (https://docs.aws.amazon.com/codebuild/latest/APIReference/API_ReportGroup.html).
# pytest-cov and coverage.py write Cobertura XML (`--cov-report=xml:reports/coverage.xml`).
CoverageFormat = Literal["COBERTURAXML", "CLOVERXML", "JACOCOXML"]
COVERAGE_FORMATS: tuple[str, ...] = get_args(CoverageFormat)

# Where in the artifact store the exported raw files go: `test-reports/<the build project's name>/...`.
EXPORT_PREFIX = "test-reports"

# What the build role does with each kind of group: create a report per build, update it, and add its
# results ("Test report permissions", https://docs.aws.amazon.com/codebuild/latest/userguide/test-permissions.html).
# No CreateReportGroup: the stack creates the groups, and CodeBuild creates one only for a bare name.
TEST_REPORT_ACTIONS = ("codebuild:BatchPutTestCases", "codebuild:CreateReport", "codebuild:UpdateReport")
COVERAGE_REPORT_ACTIONS = ("codebuild:BatchPutCodeCoverages", "codebuild:CreateReport", "codebuild:UpdateReport")


@dataclass(frozen=True)
class TestReportsArgs:
    """Whose step publishes, and whether it produces coverage (and in which format)."""

    __test__ = False  # a pytest collector would take the `Test` prefix for a test class

    names: StackNames
    coverage_format: CoverageFormat | None = None

    def __post_init__(self) -> None:
        if self.coverage_format is not None and self.coverage_format not in COVERAGE_FORMATS:
            raise ValueError(f"coverage format {self.coverage_format!r}: expected one of {', '.join(COVERAGE_FORMATS)}")


def report_group_pattern(names: StackNames) -> str:
    """Every report group of every pipeline named like `names`: `report-group/cicd-dev-*`.

    One pattern for all services, as for the projects, so the permissions boundary keeps its size however
    many services the stack has (pipeline/boundary.py)."""
    return f"report-group/{names.prefix}-*"


def report_statements(
    *, test_groups: Sequence[pulumi.Input[str]], coverage_groups: Sequence[pulumi.Input[str]] = ()
) -> list[Statement]:
    """The build role's grants on its groups: results only into a group of their kind."""
    statements = [statement("PublishTestReports", list(TEST_REPORT_ACTIONS), list(test_groups))]
    if coverage_groups:
        statements.append(statement("PublishCoverageReports", list(COVERAGE_REPORT_ACTIONS), list(coverage_groups)))
    return statements


def _yaml_string(value: str) -> str:
    """A JSON string is a YAML double-quoted scalar: no value can change the section's structure."""
    return json.dumps(value)


def reports_section(directory: str, coverage_format: CoverageFormat | None) -> str:
    """The buildspec's `reports:` section for a service in `directory` ("" for the repository root).

    `base-directory` is relative to the original build location, the root of the checkout, not to the
    folder the commands `cd` into (buildspecs/build.yml), so it names the service's folder itself. The
    keys are the variables, written as the documentation writes them (`$NAME:`), which CodeBuild expands
    to the groups' ARNs.
    """
    base = f"{directory}/{REPORTS_DIRECTORY}" if directory else REPORTS_DIRECTORY
    groups: list[tuple[str, str, str]] = [(TEST_REPORT_GROUP_VARIABLE, JUNIT_FILE, "JUNITXML")]
    if coverage_format is not None:
        groups.append((COVERAGE_REPORT_GROUP_VARIABLE, COVERAGE_FILE, coverage_format))
    lines = [
        "# Added by pipeline/reports.py: the service's `make test` writes these files in its folder.",
        "reports:",
    ]
    for variable, file_name, file_format in groups:
        lines += [
            f"  ${variable}:",
            "    files:",
            f"      - {_yaml_string(file_name)}",
            f"    base-directory: {_yaml_string(base)}",
            f"    file-format: {file_format}",
        ]
    return "\n".join(lines) + "\n"


class TestReports(pulumi.ComponentResource):
    """A step's report groups: TEST always, CODE_COVERAGE where the service produces coverage."""

    __test__ = False

    test_group: aws.codebuild.ReportGroup
    coverage_group: aws.codebuild.ReportGroup | None

    def __init__(
        self,
        name: str,
        args: TestReportsArgs,
        shared: SharedResources,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("cicd:codebuild:TestReports", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        def group(suffix: str, report_type: str) -> aws.codebuild.ReportGroup:
            # Auto-named `<name>-<suffix>-<7 hex>`: at most 73 characters for the longest environment and
            # service names, within CreateReportGroup's 128 (pipeline/settings.py, DERIVED_NAMES).
            return aws.codebuild.ReportGroup(
                f"{name}-{suffix}",
                type=report_type,
                export_config=aws.codebuild.ReportGroupExportConfigArgs(
                    type="S3",
                    s3_destination=aws.codebuild.ReportGroupExportConfigS3DestinationArgs(
                        bucket=shared.artifact_bucket_name,
                        path=f"{EXPORT_PREFIX}/{name}/{suffix}",
                        # The raw files as they are, readable one by one.
                        packaging="NONE",
                        encryption_key=shared.key_arn,
                        encryption_disabled=False,
                    ),
                ),
                delete_reports=True,
                opts=child,
            )

        self.test_group = group("tests", "TEST")
        self.coverage_group = group("coverage", "CODE_COVERAGE") if args.coverage_format is not None else None
        self.test_group_arn = self.test_group.arn
        self.coverage_group_arn = self.coverage_group.arn if self.coverage_group is not None else None
        self.register_outputs(
            {"testGroupArn": self.test_group.arn}
            | ({"coverageGroupArn": self.coverage_group.arn} if self.coverage_group is not None else {})
        )

    def variables(self) -> Mapping[str, pulumi.Output[str]]:
        """Build variable name -> group ARN, for the project's environment."""
        found = {TEST_REPORT_GROUP_VARIABLE: self.test_group.arn}
        if self.coverage_group is not None:
            found[COVERAGE_REPORT_GROUP_VARIABLE] = self.coverage_group.arn
        return found

    def statements(self) -> list[Statement]:
        """The build role's grants on exactly these groups."""
        return report_statements(
            test_groups=[self.test_group.arn],
            coverage_groups=[self.coverage_group.arn] if self.coverage_group is not None else [],
        )
