"""The infrastructure template (deploy/template.yaml): cfn-lint clean, and the properties the design relies on."""

from __future__ import annotations

import ast
import re
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint_file
from cfnlint.decode import cfn_yaml

from core.business import business
from deploy.connector import tables
from deploy.jobs import archive
from deploy.jobs import config as jobs_config

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "template.yaml"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    """The template as CloudFormation reads it: short tags (!Ref, !GetAtt, !Sub...) become their long forms."""
    return cfn_yaml.load(str(TEMPLATE))


def resources(template: dict, kind: str) -> dict[str, dict]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def function_env(template: dict, name: str) -> dict[str, Any]:
    merged = dict(template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {}))
    merged.update(template["Resources"][name]["Properties"].get("Environment", {}).get("Variables", {}))
    return merged


SETTING_READERS = ("_env", "_env_number", "env_text", "env_number", "env_path")


def settings_read(path: Path, function: str | None = None, readers: tuple[str, ...] = SETTING_READERS) -> set:
    """The setting names a module (or one of its functions) reads: the string first argument of its readers."""
    tree = ast.parse(path.read_text())
    if function:
        tree = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == function)
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)) in readers
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }


def test_cfn_lint_finds_nothing_not_even_informational():
    matches = lint_file(TEMPLATE, config=ManualArgs(include_checks=["I"]))
    assert [str(m) for m in matches] == []


def test_dynamodb_tables_are_the_connectors_own_with_ttl(template):
    found = resources(template, "AWS::DynamoDB::Table")
    assert set(found) == {spec.logical_id for spec in tables.ALL}
    for spec in tables.ALL:
        properties = found[spec.logical_id]["Properties"]
        for key, value in spec.cloudformation_properties().items():
            assert properties[key] == value, f"{spec.logical_id}.{key} differs from deploy/connector/tables.py"
        assert properties["TimeToLiveSpecification"]["Enabled"] is True


def test_the_queue_is_fifo_with_a_fifo_dead_letter_queue_and_partial_batch_failures(template):
    queue = template["Resources"]["MessagesQueue"]["Properties"]
    assert queue["FifoQueue"] is True
    redrive = queue["RedrivePolicy"]
    dlq_name = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
    assert template["Resources"][dlq_name]["Properties"]["FifoQueue"] is True
    # the connector apologises on the last receive: its setting must be the queue's maxReceiveCount
    assert redrive["maxReceiveCount"] == {"Ref": "MaxReceiveCount"}
    for function in ("WebhookReceiver", "ChatOrchestrator"):
        assert function_env(template, function)["MAX_RECEIVE_COUNT"] == {"Ref": "MaxReceiveCount"}

    (mapping,) = resources(template, "AWS::Lambda::EventSourceMapping").values()
    mapping = mapping["Properties"]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["MessagesQueue", "Arn"]}
    assert mapping["FunctionName"] == {"Ref": "ChatOrchestrator"}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # a message must stay hidden while the orchestrator works on it
    assert queue["VisibilityTimeout"] >= template["Resources"]["ChatOrchestrator"]["Properties"]["Timeout"]


def test_the_webhook_is_get_and_post_on_the_receiver(template):
    events = template["Resources"]["WebhookReceiver"]["Properties"]["Events"].values()
    routes = {(e["Properties"]["Method"], e["Properties"]["Path"]) for e in events if e["Type"] == "HttpApi"}
    assert routes == {("GET", "/webhook"), ("POST", "/webhook")}


def test_every_bucket_is_encrypted_and_private(template):
    buckets = resources(template, "AWS::S3::Bucket")
    assert {"ArchiveBucket", "IndexBucket", "DashboardSiteBucket"} <= set(buckets)
    for name, bucket in buckets.items():
        properties = bucket["Properties"]
        rules = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rules[0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}, name
        block = properties["PublicAccessBlockConfiguration"]
        assert all(
            block[k] is True
            for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
        ), name


def test_the_archive_goes_to_a_colder_class_after_90_days(template):
    rules = template["Resources"]["ArchiveBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    transitions = [t for rule in rules if rule["Status"] == "Enabled" for t in rule.get("Transitions", [])]
    assert any(
        t["TransitionInDays"] == 90 and t["StorageClass"] in {"STANDARD_IA", "GLACIER_IR", "GLACIER"}
        for t in transitions
    )


def policy_statements(template: dict):
    """(where, statement) for every identity policy in the template: SAM function policies and IAM roles."""
    for name, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function":
            for policy in properties.get("Policies", []):
                assert isinstance(policy, dict) and "Statement" in policy, (
                    f"{name}: only inline statements, no managed policies"
                )
                for statement in policy["Statement"]:
                    yield name, statement
        if resource["Type"] == "AWS::IAM::Role":
            for policy in properties.get("Policies", []):
                for statement in policy["PolicyDocument"]["Statement"]:
                    yield name, statement


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def test_no_wildcard_permissions(template):
    statements = list(policy_statements(template))
    assert len(statements) >= 10
    for where, statement in statements:
        if statement["Effect"] != "Allow":
            continue
        actions, targets = as_list(statement["Action"]), as_list(statement["Resource"])
        assert not any(a == "*" or a.endswith(":*") for a in actions), (where, actions)
        assert "*" not in targets, (where, actions)


def test_each_function_has_its_own_role_and_points_at_a_real_handler(template):
    functions = resources(template, "AWS::Serverless::Function")
    assert set(functions) == {"WebhookReceiver", "ChatOrchestrator", "ArchiveJob", "ReminderJob", "DashboardApi"}
    for name, function in functions.items():
        properties = function["Properties"]
        assert "Role" not in properties, f"{name} shares a role"
        (command,) = properties["ImageConfig"]["Command"]
        module, handler = command.rsplit(".", 1)
        path = ROOT / (module.replace(".", "/") + ".py")
        assert path.exists(), f"{name}: no {path}"
        defined = {n.name for n in ast.parse(path.read_text()).body if isinstance(n, ast.FunctionDef)}
        assert handler in defined, f"{name}: {module} has no {handler}()"
        assert function["Metadata"]["Dockerfile"] == "deploy/containers/lambda/Dockerfile"


def test_the_connector_functions_get_every_setting_the_connector_reads(template):
    read = settings_read(ROOT / "deploy" / "connector" / "config.py") | {"RASA_URL"}
    assert {"MESSAGES_QUEUE_URL", "IDEMPOTENCY_TABLE", "PROFILES_TABLE", "MESSENGER_SECRET_NAME"} <= read
    for function in ("WebhookReceiver", "ChatOrchestrator"):
        missing = read - set(function_env(template, function))
        assert not missing, f"{function} lacks {sorted(missing)}"
    env = function_env(template, "ChatOrchestrator")
    assert env["MESSAGES_QUEUE_URL"] == {"Ref": "MessagesQueue"}
    assert env["IDEMPOTENCY_TABLE"] == {"Ref": "IdempotencyTable"}
    assert env["PROFILES_TABLE"] == {"Ref": "ProfilesTable"}
    assert env["MESSENGER_SECRET_NAME"] == {"Ref": "MessengerSecret"}


def test_the_jobs_get_every_setting_they_read(template):
    config_file = ROOT / "deploy" / "jobs" / "config.py"
    database = settings_read(config_file, "use_database_secret") - set(jobs_config.LOCAL_ONLY_SETTINGS)
    assert "DATABASE_SECRET_ARN" in database
    archive_needs = settings_read(config_file, "archive_settings") | database
    assert not archive_needs - set(function_env(template, "ArchiveJob"))
    connector_reads = settings_read(ROOT / "deploy" / "connector" / "config.py")
    assert set(jobs_config.REMINDER_CONNECTOR_SETTINGS) <= connector_reads
    reminder_needs = set(jobs_config.REMINDER_CONNECTOR_SETTINGS) | database
    assert not reminder_needs - set(function_env(template, "ReminderJob"))
    for name in ("ArchiveJob", "ReminderJob", "DashboardApi"):
        assert "DATABASE_URL" not in function_env(template, name)


def test_the_dashboard_api_is_behind_a_cognito_jwt_authoriser(template):
    api = template["Resources"]["DashboardHttpApi"]["Properties"]["Auth"]
    authorizer = api["Authorizers"][api["DefaultAuthorizer"]]
    assert authorizer["JwtConfiguration"]["audience"] == [{"Ref": "DashboardUserPoolClient"}]
    assert "${DashboardUserPool}" in authorizer["JwtConfiguration"]["issuer"]["Fn::Sub"]
    client = template["Resources"]["DashboardUserPoolClient"]["Properties"]
    assert client["UserPoolId"] == {"Ref": "DashboardUserPool"}
    env = function_env(template, "DashboardApi")
    dashboard_reads = settings_read(ROOT / "dashboard" / "settings.py")
    required = {"COGNITO_APP_CLIENT_ID", "COGNITO_REGION", "COGNITO_USER_POOL_ID", "ACTIONS_URL"}
    assert required <= dashboard_reads  # names the dashboard really reads
    assert not (required | {"RASA_URL", "DATABASE_SECRET_ARN"}) - set(env)
    assert "DASHBOARD_TOKEN" not in env  # in AWS only Cognito signs staff in
    (event,) = template["Resources"]["DashboardApi"]["Properties"]["Events"].values()
    assert event["Properties"]["ApiId"] == {"Ref": "DashboardHttpApi"}


def test_schedules_archive_at_two_local_time_and_remind_hourly(template):
    archive_schedule = template["Resources"]["ArchiveSchedule"]["Properties"]
    assert archive_schedule["ScheduleExpression"] == "cron(0 2 * * ? *)"
    assert archive_schedule["ScheduleExpressionTimezone"] == {"Ref": "BusinessTimeZone"}
    assert template["Parameters"]["BusinessTimeZone"]["Default"] == business().tz.key == "Asia/Ho_Chi_Minh"
    assert archive_schedule["Target"]["Arn"] == {"Fn::GetAtt": ["ArchiveJob", "Arn"]}
    reminder_schedule = template["Resources"]["ReminderSchedule"]["Properties"]
    assert reminder_schedule["ScheduleExpression"] == "rate(1 hour)"
    assert reminder_schedule["Target"]["Arn"] == {"Fn::GetAtt": ["ReminderJob", "Arn"]}


def test_the_glue_tables_have_the_columns_the_archive_writes(template):
    event = archive.event_line(
        {
            "id": 1,
            "sender_id": "s",
            "type_name": "user",
            "timestamp": 1.5,
            "intent_name": None,
            "action_name": None,
            "data": "{}",
        }
    )
    change = archive.booking_line(
        {"change_id": 1, "at": datetime.now(timezone.utc), "action": "created", "actor": "a", "details": {}, "reference": "LS-X",
         "sender_id": "s", "service": "Manicure", "price": Decimal("15"), "created_at": datetime.now(timezone.utc)}
    )  # fmt: skip
    import json

    for table, line, folder in (("ArchiveEventsTable", event, "events"), ("ArchiveBookingsTable", change, "bookings")):
        table_input = template["Resources"][table]["Properties"]["TableInput"]
        columns = [c["Name"] for c in table_input["StorageDescriptor"]["Columns"]]
        assert sorted(columns) == sorted(json.loads(line)), table
        assert table_input["PartitionKeys"] == [{"Name": "dt", "Type": "string"}]
        assert (
            table_input["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"]
            == "org.openx.data.jsonserde.JsonSerDe"
        )
        assert f"/{folder}/dt=${{!dt}}/" in table_input["Parameters"]["storage.location.template"]["Fn::Sub"]
        assert archive.partition_key(folder, datetime(2026, 1, 2).date()).startswith(f"{folder}/dt=2026-01-02/")


def test_rasa_and_the_action_server_run_privately_and_rasa_scales(template):
    rasa = template["Resources"]["RasaService"]["Properties"]
    assert rasa["DesiredCount"] == {"Ref": "RasaMinTasks"}
    assert template["Parameters"]["RasaMinTasks"]["MinValue"] >= 2
    assert template["Parameters"]["RasaMinTasks"]["Default"] >= 2
    for service in resources(template, "AWS::ECS::Service").values():
        network = service["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]
        assert network["AssignPublicIp"] == "DISABLED"
        assert network["Subnets"] == {"Ref": "PrivateSubnetIds"}
        assert service["Properties"]["LaunchType"] == "FARGATE"
    assert template["Resources"]["InternalLoadBalancer"]["Properties"]["Scheme"] == "internal"
    (policy,) = resources(template, "AWS::ApplicationAutoScaling::ScalingPolicy").values()
    tracking = policy["Properties"]["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["PredefinedMetricSpecification"]["PredefinedMetricType"] == "ECSServiceAverageCPUUtilization"
    target = template["Resources"]["RasaScalableTarget"]["Properties"]
    assert target["MinCapacity"] == {"Ref": "RasaMinTasks"}
    database = template["Resources"]["Database"]["Properties"]
    assert database["PubliclyAccessible"] is False and database["StorageEncrypted"] is True
    assert database["Engine"] == "postgres"
    assert template["Resources"]["LockStore"]["Properties"]["TransitEncryptionEnabled"] is True


def test_the_rasa_task_has_every_variable_its_endpoints_file_uses(template):
    endpoints = (ROOT / "deploy" / "containers" / "rasa" / "endpoints.yml").read_text()
    used = set(re.findall(r"\$\{(\w+)\}", endpoints))
    assert {"DB_HOST", "DB_PASSWORD", "REDIS_HOST", "ACTION_SERVER_URL"} <= used
    (container,) = template["Resources"]["RasaTaskDefinition"]["Properties"]["ContainerDefinitions"]
    given = {e["Name"] for e in container["Environment"]} | {s["Name"] for s in container["Secrets"]}
    assert not used - given
    lock_store = "lock_store:\n  # atomic ticket changes across tasks (deploy/rasa_lock_store.py); ElastiCache encrypts in transit\n  type: deploy.rasa_lock_store.AtomicRedisLockStore"
    assert lock_store in endpoints and "type: SQL" in endpoints
    assert "type: deploy.rasa_lock_store.AtomicRedisLockStore" in (ROOT / "endpoints-scaled.yml").read_text()
    entrypoint = (ROOT / "deploy" / "containers" / "actions" / "entrypoint.sh").read_text()
    (actions,) = template["Resources"]["ActionServerTaskDefinition"]["Properties"]["ContainerDefinitions"]
    given = {e["Name"] for e in actions["Environment"]} | {s["Name"] for s in actions["Secrets"]}
    assert not set(re.findall(r"\$\{(DB_\w+)", entrypoint)) - given


def ingress_rules(template: dict) -> list[dict]:
    rules = [r["Properties"] for r in resources(template, "AWS::EC2::SecurityGroupIngress").values()]
    for group_name, group in resources(template, "AWS::EC2::SecurityGroup").items():
        for rule in group["Properties"].get("SecurityGroupIngress", []):
            rules.append({**rule, "GroupId": {"Ref": group_name}})
    return rules


def test_only_the_services_that_need_a_port_can_reach_it(template):
    rules = ingress_rules(template)
    assert not any("CidrIp" in r or "CidrIpv6" in r for r in rules), "no address ranges: only security groups"

    def sources(group: str, port: int) -> set[str]:
        return {
            r["SourceSecurityGroupId"]["Ref"]
            for r in rules
            if r["GroupId"] == {"Ref": group} and r["FromPort"] <= port <= r["ToPort"]
        }

    assert sources("DatabaseSecurityGroup", 5432) == {
        "RasaSecurityGroup", "ActionServerSecurityGroup", "JobsSecurityGroup", "DashboardApiSecurityGroup",
    }  # fmt: skip
    assert sources("LockStoreSecurityGroup", 6379) == {"RasaSecurityGroup"}
    assert sources("RasaSecurityGroup", 5005) == {"LoadBalancerSecurityGroup"}
    assert sources("ActionServerSecurityGroup", 5055) == {"LoadBalancerSecurityGroup"}
    assert sources("LoadBalancerSecurityGroup", 80) == {"OrchestratorSecurityGroup", "DashboardApiSecurityGroup"}
    assert sources("LoadBalancerSecurityGroup", 5055) == {"RasaSecurityGroup", "DashboardApiSecurityGroup"}
    for group in ("OrchestratorSecurityGroup", "JobsSecurityGroup", "DashboardApiSecurityGroup"):
        assert not any(r["GroupId"] == {"Ref": group} for r in rules), f"{group} takes no inbound traffic"


def test_alarms_watch_the_dead_letter_queue_every_function_and_both_apis(template):
    alarms = [a["Properties"] for a in resources(template, "AWS::CloudWatch::Alarm").values()]

    def watched(namespace: str, metric: str) -> list:
        return [
            a["Dimensions"][0]["Value"] for a in alarms if a["Namespace"] == namespace and a["MetricName"] == metric
        ]

    assert watched("AWS/SQS", "ApproximateNumberOfMessagesVisible") == [
        {"Fn::GetAtt": ["MessagesDeadLetterQueue", "QueueName"]}
    ]
    functions = set(resources(template, "AWS::Serverless::Function"))
    assert {v["Ref"] for v in watched("AWS/Lambda", "Errors")} == functions
    apis = set(resources(template, "AWS::Serverless::HttpApi"))
    assert {v["Ref"] for v in watched("AWS/ApiGateway", "5xx")} == apis
    assert all(a["AlarmActions"] == [{"Ref": "AlarmTopic"}] for a in alarms)


def test_secrets_manager_holds_the_messenger_secrets_and_the_database_password(template):
    messenger = template["Resources"]["MessengerSecret"]["Properties"]["GenerateSecretString"]
    import json

    keys = set(json.loads(messenger["SecretStringTemplate"])) | {messenger["GenerateStringKey"]}
    from deploy.connector.config import SECRET_KEYS

    assert keys == set(SECRET_KEYS)
    database = template["Resources"]["Database"]["Properties"]
    assert "{{resolve:secretsmanager:${DatabaseSecret}" in database["MasterUserPassword"]["Fn::Sub"]
