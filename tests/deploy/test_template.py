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
REGISTRY = ROOT / "deploy" / "registry.yaml"
PRIVATE_SUBNETS = [{"Ref": "PrivateSubnetA"}, {"Ref": "PrivateSubnetB"}]


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


@pytest.mark.parametrize("path", [TEMPLATE, REGISTRY], ids=lambda p: p.name)
def test_cfn_lint_finds_nothing_not_even_informational(path):
    matches = lint_file(path, config=ManualArgs(include_checks=["I"]))
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
        # the image is built with BuildKit and pushed by digest (deploy/README.md), not by `sam build`
        assert properties["PackageType"] == "Image" and properties["ImageUri"] == {"Ref": "LambdaImageUri"}
        assert "Dockerfile" not in function.get("Metadata", {}), f"{name}: sam build would ignore the .dockerignore"


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
    database = settings_read(config_file, "database_secret_url") - set(jobs_config.LOCAL_ONLY_SETTINGS)
    assert "DATABASE_SECRET_ARN" in database
    archive_needs = settings_read(config_file, "archive_settings") | database
    assert not archive_needs - set(function_env(template, "ArchiveJob"))
    connector_reads = settings_read(ROOT / "deploy" / "connector" / "config.py")
    assert set(jobs_config.REMINDER_CONNECTOR_SETTINGS) <= connector_reads
    reminder_needs = set(jobs_config.REMINDER_CONNECTOR_SETTINGS) | database
    assert not reminder_needs - set(function_env(template, "ReminderJob"))
    for name in ("ArchiveJob", "ReminderJob", "DashboardApi"):
        assert "DATABASE_URL" not in function_env(template, name)


def api_routes(template: dict, api: str) -> dict[str, dict]:
    """Route key -> route properties of an API Gateway HTTP API built from AWS::ApiGatewayV2 resources."""
    return {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in resources(template, "AWS::ApiGatewayV2::Route").values()
        if r["Properties"]["ApiId"] == {"Ref": api}
    }


def test_the_dashboard_api_is_behind_a_cognito_jwt_authoriser(template):
    (authorizer_name,) = resources(template, "AWS::ApiGatewayV2::Authorizer")
    authorizer = template["Resources"][authorizer_name]["Properties"]
    assert authorizer["AuthorizerType"] == "JWT"
    assert authorizer["JwtConfiguration"]["Audience"] == [{"Ref": "DashboardUserPoolClient"}]
    assert "${DashboardUserPool}" in authorizer["JwtConfiguration"]["Issuer"]["Fn::Sub"]
    routes = api_routes(template, "DashboardHttpApi")
    assert set(routes) == {"ANY /api/{proxy+}", "GET /auth/{proxy+}"}
    assert routes["ANY /api/{proxy+}"]["AuthorizationType"] == "JWT"
    assert routes["ANY /api/{proxy+}"]["AuthorizerId"] == {"Ref": authorizer_name}
    assert routes["GET /auth/{proxy+}"]["AuthorizationType"] == "NONE"  # /auth/config: how to sign in
    (integration,) = resources(template, "AWS::ApiGatewayV2::Integration").values()
    assert integration["Properties"]["IntegrationUri"] == {"Fn::GetAtt": ["DashboardApi", "Arn"]}
    client = template["Resources"]["DashboardUserPoolClient"]["Properties"]
    assert client["UserPoolId"] == {"Ref": "DashboardUserPool"}
    assert client["AllowedOAuthFlows"] == ["code"] and client["GenerateSecret"] is False  # a public client: PKCE
    assert client["CallbackURLs"] == [{"Fn::Sub": "https://${DashboardDistribution.DomainName}/"}]
    env = function_env(template, "DashboardApi")
    dashboard_reads = settings_read(ROOT / "dashboard" / "settings.py") | settings_read(ROOT / "rag" / "config.py")
    required = {
        "COGNITO_APP_CLIENT_ID", "COGNITO_REGION", "COGNITO_USER_POOL_ID", "COGNITO_DOMAIN", "ACTIONS_URL",
        "INDEX_BUCKET", "KNOWLEDGE_TABLE", "KNOWLEDGE_REBUILD_CLUSTER", "KNOWLEDGE_REBUILD_TASK_DEFINITION",
        "KNOWLEDGE_REBUILD_SUBNETS", "KNOWLEDGE_REBUILD_SECURITY_GROUP",
    }  # fmt: skip
    assert required <= dashboard_reads  # names the dashboard really reads
    assert not (required | {"RASA_URL", "DATABASE_SECRET_ARN"}) - set(env)
    assert "DASHBOARD_TOKEN" not in env  # in AWS only Cognito signs staff in
    assert "Events" not in template["Resources"]["DashboardApi"]["Properties"]


def test_a_knowledge_rebuild_runs_the_rebuild_module_in_the_action_server_image(template):
    task = template["Resources"]["KnowledgeRebuildTaskDefinition"]["Properties"]
    (container,) = task["ContainerDefinitions"]
    assert container["Image"] == {"Ref": "ActionServerImageUri"}  # the image with torch and the model
    assert container["EntryPoint"] == ["python", "-m", "deploy.rebuild_knowledge"]
    env = {e["Name"]: e["Value"] for e in container["Environment"]}
    assert env["INDEX_BUCKET"] == {"Ref": "IndexBucket"} and env["KNOWLEDGE_TABLE"] == {"Ref": "KnowledgePointerTable"}
    assert env["RAG_DOCUMENTS_DIR"].startswith("/tmp/")
    dashboard = function_env(template, "DashboardApi")
    assert dashboard["KNOWLEDGE_REBUILD_TASK_DEFINITION"] == {"Ref": "KnowledgeRebuildTaskDefinition"}
    statements = [s for where, s in policy_statements(template) if where == "DashboardApi"]
    run = next(s for s in statements if s["Action"] == "ecs:RunTask")
    assert run["Resource"] == {"Ref": "KnowledgeRebuildTaskDefinition"}
    passed = next(s for s in statements if s["Action"] == "iam:PassRole")
    assert {r["Fn::GetAtt"][0] for r in passed["Resource"]} == {"TaskExecutionRole", "KnowledgeRebuildTaskRole"}
    # the action servers only read the live index; the rebuild task writes it
    readers = [s for where, s in policy_statements(template) if where == "ActionServerTaskRole"]
    assert not any("PutObject" in str(s["Action"]) or "PutItem" in str(s["Action"]) for s in readers)


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
        assert network["Subnets"] == PRIVATE_SUBNETS
        assert service["Properties"]["LaunchType"] == "FARGATE"
    assert template["Resources"]["InternalLoadBalancer"]["Properties"]["Scheme"] == "internal"
    policies = resources(template, "AWS::ApplicationAutoScaling::ScalingPolicy").values()
    assert {p["Properties"]["ScalingTargetId"]["Ref"] for p in policies} == {
        "RasaScalableTarget",
        "ActionServerScalableTarget",
    }
    for policy in policies:
        tracking = policy["Properties"]["TargetTrackingScalingPolicyConfiguration"]
        assert tracking["PredefinedMetricSpecification"]["PredefinedMetricType"] == "ECSServiceAverageCPUUtilization"
    target = template["Resources"]["RasaScalableTarget"]["Properties"]
    assert target["MinCapacity"] == {"Ref": "RasaMinTasks"}
    database = template["Resources"]["Database"]["Properties"]
    assert database["PubliclyAccessible"] is False and database["StorageEncrypted"] is True
    assert database["Engine"] == "postgres"
    assert template["Resources"]["LockStore"]["Properties"]["TransitEncryptionEnabled"] is True
    assert database["MultiAZ"] == {"Ref": "DatabaseMultiAZ"}
    assert template["Parameters"]["DatabaseMultiAZ"]["AllowedValues"] == ["true", "false"]
    actions = template["Resources"]["ActionServerService"]["Properties"]
    assert actions["DesiredCount"] == {"Ref": "ActionServerMinTasks"}
    assert template["Parameters"]["ActionServerMinTasks"]["MinValue"] >= 2
    targets = resources(template, "AWS::ApplicationAutoScaling::ScalableTarget").values()
    assert {t["Properties"]["MinCapacity"]["Ref"] for t in targets} == {"RasaMinTasks", "ActionServerMinTasks"}


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


def watched(template: dict) -> dict[tuple[str, str], list]:
    """(namespace, metric) -> the dimension values of every alarm on it, metric-math alarms included."""
    found: dict[tuple[str, str], list] = {}
    for alarm in resources(template, "AWS::CloudWatch::Alarm").values():
        properties = alarm["Properties"]
        metrics = [m["MetricStat"]["Metric"] for m in properties.get("Metrics", []) if "MetricStat" in m]
        if "MetricName" in properties:
            metrics.append(properties)
        for metric in metrics:
            key = (metric["Namespace"], metric["MetricName"])
            found.setdefault(key, []).append({d["Name"]: d["Value"] for d in metric["Dimensions"]})
    return found


def test_alarms_watch_every_part_that_can_fail_and_reach_the_topic(template):
    alarms = watched(template)
    queue = lambda name: {"QueueName": {"Fn::GetAtt": [name, "QueueName"]}}  # noqa: E731
    assert alarms[("AWS/SQS", "ApproximateNumberOfMessagesVisible")] == [queue("MessagesDeadLetterQueue")]
    assert alarms[("AWS/SQS", "ApproximateAgeOfOldestMessage")] == [queue("MessagesQueue")]
    functions = set(resources(template, "AWS::Serverless::Function"))
    assert {d["FunctionName"]["Ref"] for d in alarms[("AWS/Lambda", "Errors")]} == functions
    assert alarms[("AWS/Lambda", "Throttles")] == [{"FunctionName": {"Ref": "WebhookReceiver"}}]
    assert {d["ApiId"]["Ref"] for d in alarms[("AWS/ApiGateway", "5xx")]} == {"MessengerApi", "DashboardHttpApi"}
    # the connector's metric for refused Page tokens and permissions (Powertools Metrics, EMF)
    assert alarms[("Lotus", "GraphAuthRefused")] == [{"service": "messenger-connector"}]
    graph = template["Resources"]["GraphAuthRefusedAlarm"]["Properties"]
    assert (graph["Statistic"], graph["Period"], graph["Threshold"]) == ("Sum", 300, 1)
    assert graph["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    services = {d["ServiceName"]["Fn::GetAtt"][0] for d in alarms[("ECS/ContainerInsights", "RunningTaskCount")]}
    assert services == {"RasaService", "ActionServerService"}
    assert len(alarms[("ECS/ContainerInsights", "DesiredTaskCount")]) == 2
    balancer = {"LoadBalancer": {"Fn::GetAtt": ["InternalLoadBalancer", "LoadBalancerFullName"]}}
    assert alarms[("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count")] == [balancer]
    assert alarms[("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count")] == [balancer]
    for metric in ("CPUUtilization", "FreeStorageSpace", "DatabaseConnections"):
        assert alarms[("AWS/RDS", metric)] == [{"DBInstanceIdentifier": {"Ref": "Database"}}], metric
    assert alarms[("AWS/ElastiCache", "DatabaseMemoryUsagePercentage")] == [
        {"CacheClusterId": {"Fn::Sub": "${LockStore}-001"}}
    ]
    assert all(
        a["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}]
        for a in resources(template, "AWS::CloudWatch::Alarm").values()
    )


def test_the_alarm_topic_uses_a_key_cloudwatch_may_use_and_mails_the_given_address(template):
    topic = template["Resources"]["AlarmTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Ref": "OperationsKey"}  # not alias/aws/sns: alarms cannot publish to that
    key = template["Resources"]["OperationsKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    cloudwatch = [s for s in key["KeyPolicy"]["Statement"] if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert cloudwatch and {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(cloudwatch[0]["Action"])
    subscription = template["Resources"]["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}
    assert subscription["Properties"]["Protocol"] == "email"


def test_every_log_group_keeps_logs_for_a_set_time_and_every_writer_uses_one(template):
    groups = resources(template, "AWS::Logs::LogGroup")
    for name, group in groups.items():
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name
    for name, function in resources(template, "AWS::Serverless::Function").items():
        logging_config = function["Properties"]["LoggingConfig"]
        assert logging_config["LogGroup"]["Ref"] in groups, f"{name} would log to a group without retention"
    for name, task in resources(template, "AWS::ECS::TaskDefinition").items():
        for container in task["Properties"]["ContainerDefinitions"]:
            assert container["LogConfiguration"]["Options"]["awslogs-group"]["Ref"] in groups, name
    # RDS creates its log export's group by name: the template makes that exact group first
    database = template["Resources"]["Database"]
    assert database["Properties"]["EnableCloudwatchLogsExports"] == ["postgresql"]
    assert database["DependsOn"] == "DatabaseLogGroup"
    name = groups["DatabaseLogGroup"]["Properties"]["LogGroupName"]["Fn::Join"][1]
    identifier = database["Properties"]["DBInstanceIdentifier"]["Fn::Join"][1]
    assert name[0] == "/aws/rds/instance/" + identifier[0] + "-" and name[1] == identifier[1]
    assert name[2] == "/postgresql"
    flow = template["Resources"]["VpcFlowLog"]["Properties"]
    assert flow["LogGroupName"] == {"Ref": "FlowLogGroup"}


def test_both_http_apis_are_throttled_and_write_access_logs(template):
    messenger = template["Resources"]["MessengerApi"]["Properties"]
    (stage,) = resources(template, "AWS::ApiGatewayV2::Stage").values()
    dashboard = stage["Properties"]
    assert stage["Properties"]["ApiId"] == {"Ref": "DashboardHttpApi"} and dashboard["StageName"] == "$default"
    for settings in (messenger, dashboard):
        assert settings["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0
        assert settings["DefaultRouteSettings"]["ThrottlingBurstLimit"] > 0
        destination = settings["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"]
        assert destination[1] == "Arn" and destination[0] in resources(template, "AWS::Logs::LogGroup")
        import json

        assert {"requestId", "status", "route"} <= set(json.loads(settings["AccessLogSettings"]["Format"]))
    webhook = template["Resources"]["WebhookReceiver"]["Properties"]
    assert webhook["ReservedConcurrentExecutions"] == {"Ref": "WebhookReservedConcurrency"}


def test_the_template_makes_its_own_network_in_two_zones(template):
    subnets = {name: template["Resources"][name]["Properties"] for name in ("PrivateSubnetA", "PrivateSubnetB")}
    zones = [s["AvailabilityZone"]["Fn::Select"][0] for s in subnets.values()]
    assert sorted(zones) == [0, 1]
    assert all(s["VpcId"] == {"Ref": "Vpc"} and s["MapPublicIpOnLaunch"] is False for s in subnets.values())
    assert "VpcId" not in template["Parameters"] and "PrivateSubnetIds" not in template["Parameters"]
    routes = resources(template, "AWS::EC2::Route")
    private = [
        r["Properties"] for r in routes.values() if r["Properties"]["RouteTableId"] == {"Ref": "PrivateRouteTable"}
    ]
    assert private == [{"RouteTableId": {"Ref": "PrivateRouteTable"}, "DestinationCidrBlock": "0.0.0.0/0",
                        "NatGatewayId": {"Ref": "NatGateway"}}]  # fmt: skip
    associations = resources(template, "AWS::EC2::SubnetRouteTableAssociation").values()
    assert {
        a["Properties"]["SubnetId"]["Ref"]
        for a in associations
        if a["Properties"]["RouteTableId"] == {"Ref": "PrivateRouteTable"}
    } == set(subnets)
    endpoints = resources(template, "AWS::EC2::VPCEndpoint").values()
    services = {e["Properties"]["ServiceName"]["Fn::Sub"].rsplit(".", 1)[1] for e in endpoints}
    assert services == {"s3", "dynamodb"}
    assert all(e["Properties"]["VpcEndpointType"] == "Gateway" for e in endpoints)
    assert all(e["Properties"]["RouteTableIds"] == [{"Ref": "PrivateRouteTable"}] for e in endpoints)
    for group in resources(template, "AWS::EC2::SecurityGroup").values():
        assert group["Properties"]["VpcId"] == {"Ref": "Vpc"}
    for name in ("ChatOrchestrator", "ArchiveJob", "ReminderJob", "DashboardApi"):
        assert template["Resources"][name]["Properties"]["VpcConfig"]["SubnetIds"] == PRIVATE_SUBNETS, name


def test_the_images_are_given_by_digest(template):
    digest = "sha256:" + "0" * 64
    for name in ("RasaImageUri", "ActionServerImageUri", "LambdaImageUri"):
        pattern = template["Parameters"][name]["AllowedPattern"]
        assert re.fullmatch(pattern, f"123456789012.dkr.ecr.ap-southeast-1.amazonaws.com/lotus-rasa@{digest}"), name
        assert not re.fullmatch(pattern, "123456789012.dkr.ecr.ap-southeast-1.amazonaws.com/lotus-rasa:latest"), name


def test_the_registry_keeps_few_images_immutable_and_scanned():
    registry = cfn_yaml.load(str(REGISTRY))
    repositories = resources(registry, "AWS::ECR::Repository")
    assert len(repositories) == 3
    import json

    for name, repository in repositories.items():
        properties = repository["Properties"]
        assert (
            properties["ImageTagMutability"] == "IMMUTABLE" and properties["ImageScanningConfiguration"]["ScanOnPush"]
        )
        assert properties["EmptyOnDelete"] is True  # the teardown leaves no stored image behind
        rules = json.loads(
            properties["LifecyclePolicy"]["LifecyclePolicyText"]["Fn::Sub"].replace("${KeptImages}", "5")
        )["rules"]
        assert {r["selection"]["tagStatus"] for r in rules} == {"untagged", "any"}, name
        assert all(r["action"]["type"] == "expire" for r in rules)


def test_the_load_balancer_routes_only_the_paths_in_use(template):
    listeners = resources(template, "AWS::ElasticLoadBalancingV2::Listener")
    rules = resources(template, "AWS::ElasticLoadBalancingV2::ListenerRule").values()

    def routed(listener: str) -> set[tuple[str, tuple[str, ...]]]:
        found = set()
        for rule in rules:
            if rule["Properties"]["ListenerArn"] != {"Ref": listener}:
                continue
            conditions = {c["Field"]: c for c in rule["Properties"]["Conditions"]}
            (path,) = conditions["path-pattern"]["PathPatternConfig"]["Values"]
            found.add((path, tuple(conditions["http-request-method"]["HttpRequestMethodConfig"]["Values"])))
        return found

    for name, listener in listeners.items():
        (default,) = listener["Properties"]["DefaultActions"]
        assert default["Type"] == "fixed-response" and default["FixedResponseConfig"]["StatusCode"] == "404", name
    client = (ROOT / "deploy/connector/rasa_client.py").read_text()
    rest_path = re.search(r"(/webhooks/\w+/webhook)", client)[1]
    control_path = re.search(r"(/webhooks/\w+/control)", client)[1]
    assert routed("RasaListener") == {(rest_path, ("POST",)), (control_path, ("POST",)), ("/", ("GET", "HEAD"))}
    assert routed("ActionServerListener") == {("/webhook", ("POST",)), ("/health", ("GET", "HEAD"))}
    groups = resources(template, "AWS::ElasticLoadBalancingV2::TargetGroup")
    assert groups["RasaTargetGroup"]["Properties"]["HealthCheckPath"] == "/"
    assert groups["ActionServerTargetGroup"]["Properties"]["HealthCheckPath"] == "/health"
    attributes = {
        a["Key"]: a["Value"]
        for a in template["Resources"]["InternalLoadBalancer"]["Properties"]["LoadBalancerAttributes"]
    }
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"


def test_rasa_and_the_action_server_share_the_actions_token_and_rasa_has_the_redis_token(template):
    def secrets_of(task: str) -> dict[str, Any]:
        (container,) = template["Resources"][task]["Properties"]["ContainerDefinitions"]
        return {s["Name"]: s["ValueFrom"] for s in container["Secrets"]}

    rasa, actions = secrets_of("RasaTaskDefinition"), secrets_of("ActionServerTaskDefinition")
    assert rasa["ACTIONS_TOKEN"] == actions["ACTIONS_TOKEN"] == {"Ref": "ActionsTokenSecret"}
    assert rasa["REDIS_PASSWORD"] == {"Ref": "LockStoreSecret"}
    lock_store = template["Resources"]["LockStore"]["Properties"]
    assert lock_store["AuthToken"] == {"Fn::Sub": "{{resolve:secretsmanager:${LockStoreSecret}}}"}
    endpoints = (ROOT / "deploy" / "containers" / "rasa" / "endpoints.yml").read_text()
    assert "password: ${REDIS_PASSWORD}" in endpoints and "X-Actions-Token: ${ACTIONS_TOKEN}" in endpoints
    execution = [s for where, s in policy_statements(template) if where == "TaskExecutionRole"]
    readable = {r["Ref"] for s in execution for r in as_list(s["Resource"])}
    assert {"DatabaseSecret", "LockStoreSecret", "ActionsTokenSecret"} <= readable
    for name in ("LockStoreSecret", "ActionsTokenSecret"):
        generated = template["Resources"][name]["Properties"]["GenerateSecretString"]
        assert generated["PasswordLength"] >= 32 and "SecretStringTemplate" not in generated


def test_cloudfront_serves_the_page_from_s3_and_the_api_paths_from_the_api(template):
    distribution = template["Resources"]["DashboardDistribution"]["Properties"]["DistributionConfig"]
    origins = {o["Id"]: o for o in distribution["Origins"]}
    assert origins["site"]["DomainName"] == {"Fn::GetAtt": ["DashboardSiteBucket", "RegionalDomainName"]}
    assert origins["api"]["DomainName"] == {"Fn::Sub": "${DashboardHttpApi}.execute-api.${AWS::Region}.amazonaws.com"}
    assert distribution["DefaultCacheBehavior"]["TargetOriginId"] == "site"
    behaviours = {b["PathPattern"]: b for b in distribution["CacheBehaviors"]}
    assert set(behaviours) == {"/api/*", "/auth/*"}
    assert all(b["TargetOriginId"] == "api" for b in behaviours.values())
    assert "POST" in behaviours["/api/*"]["AllowedMethods"]
    policy = {"Ref": "DashboardSecurityHeaders"}
    assert all(
        b["ResponseHeadersPolicyId"] == policy for b in [*behaviours.values(), distribution["DefaultCacheBehavior"]]
    )
    headers = template["Resources"]["DashboardSecurityHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]
    security = headers["SecurityHeadersConfig"]
    csp = security["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp
    # the page trades its sign-in code at the hosted UI's token endpoint: that origin may be fetched
    sign_in = template["Resources"]["DashboardApi"]["Properties"]["Environment"]["Variables"]["COGNITO_DOMAIN"][
        "Fn::Sub"
    ]
    assert f"connect-src 'self' https://{sign_in};" in csp
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert security["FrameOptions"]["FrameOption"] == "DENY"


def test_secrets_manager_holds_the_messenger_secrets_and_the_database_password(template):
    messenger = template["Resources"]["MessengerSecret"]["Properties"]["GenerateSecretString"]
    import json

    keys = set(json.loads(messenger["SecretStringTemplate"])) | {messenger["GenerateStringKey"]}
    from deploy.connector.config import SECRET_KEYS

    assert keys == set(SECRET_KEYS)
    # nothing usable is seeded: the operator fills app_secret and page_token, and start refuses them empty
    from core.secrets import problem_with

    seeded = json.loads(messenger["SecretStringTemplate"])
    assert all(problem_with(value) for value in seeded.values()), seeded
    database = template["Resources"]["Database"]["Properties"]
    assert "{{resolve:secretsmanager:${DatabaseSecret}" in database["MasterUserPassword"]["Fn::Sub"]


def connector_settings_of(template: dict, function: str, monkeypatch: pytest.MonkeyPatch):
    """The connector's settings as `function` reads them from its environment in the template."""
    from deploy.connector import config as connector_config

    for name, value in function_env(template, function).items():
        if isinstance(value, str):
            monkeypatch.setenv(name, value)
        else:  # a reference resolved at deploy time: its parameter's default
            ref = value.get("Ref") if isinstance(value, dict) else None
            default = template["Parameters"].get(ref, {}).get("Default") if ref else None
            if default is not None:
                monkeypatch.setenv(name, str(default))
            else:
                monkeypatch.delenv(name, raising=False)
    return connector_config.load_settings()


def test_the_orchestrator_s_batch_timeouts_and_visibility_fit_together(template, monkeypatch):
    from deploy.connector import budget

    conf = connector_settings_of(template, "ChatOrchestrator", monkeypatch)
    timeout = template["Resources"]["ChatOrchestrator"]["Properties"]["Timeout"]
    queue = template["Resources"]["MessagesQueue"]["Properties"]
    (mapping,) = resources(template, "AWS::Lambda::EventSourceMapping").values()
    batch_size = mapping["Properties"]["BatchSize"]
    steps = budget.step_times(conf)

    # one Graph call: 3 attempts of connect 2 s + answer 4 s, two pauses of at most 2 s; a Rasa turn 2 + 20 s
    assert (steps.graph_attempt, steps.graph_call, steps.rasa_attempt) == (6.0, 22.0, 22.0)
    # the slowest message (seen, typing, profile, turn, one reply) plus an apology for every message of a
    # batch on its last receive fits one invocation: the first message of any batch can always finish
    worst = budget.record_worst_case(conf) + batch_size * steps.apology
    assert worst == budget.batch_worst_case(conf, batch_size) <= timeout, (worst, timeout)
    assert 2 * steps.graph_attempt + 2 * steps.graph_call + steps.rasa_attempt + budget.MARGIN_SECONDS == (
        budget.record_worst_case(conf)
    )
    # AWS advises a visibility timeout of at least 6 x the function's timeout for an SQS event source
    assert queue["VisibilityTimeout"] >= 6 * timeout
    # every receive up to the dead-letter queue happens within the queue's retention
    max_receive = template["Parameters"]["MaxReceiveCount"]["Default"]
    assert conf.max_receive_count == max_receive
    assert max_receive * queue["VisibilityTimeout"] < queue["MessageRetentionPeriod"]
    # the load balancer in front of Rasa keeps a turn's connection open longer than the client waits
    balancer = template["Resources"]["InternalLoadBalancer"]["Properties"]["LoadBalancerAttributes"]
    idle = int(next(a["Value"] for a in balancer if a["Key"] == "idle_timeout.timeout_seconds"))
    assert idle > steps.rasa_attempt


def test_the_graph_auth_metric_is_the_one_the_alarm_watches(template):
    from deploy.connector import graph

    alarm = template["Resources"]["GraphAuthRefusedAlarm"]["Properties"]
    assert alarm["Namespace"] == graph.METRIC_NAMESPACE
    assert alarm["MetricName"] == graph.AUTH_METRIC
    assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]} == graph.METRIC_DIMENSIONS
    assert (alarm["Statistic"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
        "Sum",
        1,
        "GreaterThanOrEqualToThreshold",
    )


def test_staff_hear_of_a_handoff_through_an_encrypted_topic_with_an_email_subscription(template):
    topic = template["Resources"]["HandoffTopic"]
    assert topic["Type"] == "AWS::SNS::Topic" and topic["Properties"]["KmsMasterKeyId"] == {"Ref": "OperationsKey"}
    subscription = template["Resources"]["HandoffEmailSubscription"]
    assert subscription["Condition"] == "HasHandoffEmail"
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "HandoffEmail"}
    assert template["Parameters"]["HandoffTargetAppId"]["Default"] == "263902037430900"
    env = function_env(template, "ChatOrchestrator")
    assert env["HANDOFF_TOPIC_ARN"] == {"Ref": "HandoffTopic"}
    assert env["HANDOFF_TARGET_APP_ID"] == {"Ref": "HandoffTargetAppId"}
    statements = template["Resources"]["ChatOrchestrator"]["Properties"]["Policies"][0]["Statement"]
    assert {"Effect": "Allow", "Action": "sns:Publish", "Resource": {"Ref": "HandoffTopic"}} in statements
