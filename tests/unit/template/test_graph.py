"""The creation order the template relies on, checked on SAM's own transform of it, for every route.

S3 checks that it may invoke the function (direct) or write to the queue (queue) when the bucket's
notification configuration is put; so the bucket must be created after the invoke permission or the queue
policy. The template gets that through a WaitConditionHandle whose Metadata refers to the chosen route's
resource inside Fn::If. LocalStack ignored this ordering in a trial run, so it is checked here: on the
CloudFormation template SAM's translator produces (the one CloudFormation orders), with the conditions
evaluated for the route, the bucket must (transitively) depend on the right resource, and the graph must
have no cycle.
"""

from __future__ import annotations

import copy
from graphlib import CycleError, TopologicalSorter
from typing import Any

import pytest
from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader  # type: ignore[import-untyped]
from samtranslator.translator.transform import transform  # type: ignore[import-untyped]

from tools.project import PROJECT_ROOT
from tools.sam_template import Resolver, load_template

SAM_TEMPLATE = load_template(PROJECT_ROOT / "template.yaml")
# Each route: the resource S3 checks when the notification is put, and the notification's target
# (issue 21 adds eventbridge here).
ROUTES = {"direct": "NotifyInvokePermission", "queue": "NotifyQueuePolicy"}
TARGETS = {"direct": "NotifyWebhookFunction", "queue": "NotifyQueue"}


class NoManagedPolicies(ManagedPolicyLoader):  # type: ignore[misc]
    """The template names no managed policy by name; SAM's own are ARNs and need no lookup."""

    def __init__(self) -> None:
        pass

    def load(self) -> dict[str, str]:
        return {}


def transformed(parameters: dict[str, str]) -> dict[str, Any]:
    """What CloudFormation receives: `sam deploy` uploads the code (CodeUri becomes s3://), then SAM's
    transform turns the rest into plain CloudFormation."""
    template = copy.deepcopy(SAM_TEMPLATE)
    for body in template["Resources"].values():
        if body["Type"] == "AWS::Serverless::Function":
            body["Properties"]["CodeUri"] = "s3://testing-artifacts/functions.zip"
    return dict(transform(template, parameters, NoManagedPolicies()))


def references(node: Any, resolver: Resolver, names: set[str]) -> set[str]:
    """Resources `node` refers to (Ref, GetAtt, Sub), following only the taken branch of each Fn::If."""
    if isinstance(node, list):
        return set().union(*(references(item, resolver, names) for item in node))
    if not isinstance(node, dict):
        return set()
    if set(node) == {"Fn::If"}:
        condition, when_true, when_false = node["Fn::If"]
        return references(when_true if resolver.condition(condition) else when_false, resolver, names)
    found: set[str] = set()
    if isinstance(node.get("Ref"), str) and node["Ref"] in names:
        found.add(node["Ref"])
    if "Fn::GetAtt" in node:
        target = node["Fn::GetAtt"]
        logical_id = target[0] if isinstance(target, list) else str(target).split(".")[0]
        found |= {logical_id} & names
    if "Fn::Sub" in node:
        text = node["Fn::Sub"] if isinstance(node["Fn::Sub"], str) else node["Fn::Sub"][0]
        found |= {name for name in names if "${" + name + "}" in text or "${" + name + "." in text}
    return found.union(*(references(value, resolver, names) for value in node.values()))


def dependency_graph(template: dict[str, Any], parameters: dict[str, str]) -> dict[str, set[str]]:
    """Logical id -> what it waits for (DependsOn and references), for the resources the conditions keep."""
    resolver = Resolver(template, parameters)
    created = {
        name: body
        for name, body in template["Resources"].items()
        if "Condition" not in body or resolver.condition(body["Condition"])
    }
    names = set(created)
    graph: dict[str, set[str]] = {}
    for name, body in created.items():
        depends = body.get("DependsOn", [])
        waits = set([depends] if isinstance(depends, str) else depends)
        for section in ("Properties", "Metadata"):
            waits |= references(body.get(section, {}), resolver, names)
        assert waits <= names, f"{name} waits for resources that are not created: {waits - names}"
        graph[name] = waits - {name}
    return graph


def waits_for(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for item in graph[todo.pop()] - seen:
            seen.add(item)
            todo.append(item)
    return seen


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("browser", [False, True], ids=["rest-only", "with-browser-api"])
def test_bucket_waits_for_the_routes_permission_without_a_cycle(route: str, browser: bool) -> None:
    parameters = {"WebhookUrl": "https://receiver.example/webhook", "NotificationRoute": route}
    if browser:
        parameters |= {"BrowserJwtIssuer": "https://issuer.example", "BrowserJwtAudience": "testing"}
    template = transformed(parameters)
    assert "Transform" not in template, "SAM's translator produced plain CloudFormation"
    graph = dependency_graph(template, parameters)
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as error:
        pytest.fail(f"circular dependency: {error.args[1]}")
    before_bucket = waits_for(graph, "ArchiveBucket")
    assert ROUTES[route] in before_bucket
    assert TARGETS[route] in before_bucket
    other = {name for key, name in ROUTES.items() if key != route}
    assert not other & set(graph), "the other route's resources are not created"
    assert order.index(ROUTES[route]) < order.index("ArchiveBucket")


def test_graph_notices_a_missing_wait() -> None:
    """Without the handle's Metadata the bucket would not wait: the check above must see that."""
    parameters = {"WebhookUrl": "https://receiver.example/webhook", "NotificationRoute": "queue"}
    template = transformed(parameters)
    template["Resources"]["NotificationTargetReady"]["Metadata"] = {}
    assert "NotifyQueuePolicy" not in waits_for(dependency_graph(template, parameters), "ArchiveBucket")
