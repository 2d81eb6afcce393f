"""Read a SAM template without SAM CLI: short-tag YAML loading and a small intrinsic-function resolver.

Resolution follows `sam local invoke` where it matters for running a function locally:
- `Ref` to a parameter: the override, else the parameter's `Default`; `Number` parameters stay strings
  (as CloudFormation hands them out), `CommaDelimitedList` parameters become lists.
- `Ref` to a pseudo parameter: SAM CLI's local values (`AWS::Region` us-east-1, `AWS::AccountId`
  123456789012, `AWS::StackName` local, ...); `AWS::NoValue` removes the key or list item.
- `Ref` to a resource: its logical id (SAM CLI does the same; there is no physical resource locally).
- `Fn::Sub`, `Fn::Join`, `Fn::If` with `Fn::Equals`/`Not`/`And`/`Or`/`Condition`, `Fn::Select`,
  `Fn::Split` are evaluated.
- Anything else (`Fn::GetAtt`, `Fn::ImportValue`, a parameter without a default, ...) cannot be known
  locally: `resolve` raises `Unresolvable`; callers turn it into "" as SAM CLI does for environment values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

PSEUDO_PARAMETERS: dict[str, str] = {
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::Region": "us-east-1",
    "AWS::StackName": "local",
    "AWS::StackId": (
        "arn:aws:cloudformation:us-east-1:123456789012:stack/local/51af3dc0-da77-11e4-872e-1234567db123"
    ),
    "AWS::URLSuffix": "amazonaws.com",  # SAM CLI says "localhost"; this keeps URLs plausible
}
NO_VALUE = "AWS::NoValue"
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class TemplateError(Exception):
    """The file is not a usable template."""


class Unresolvable(Exception):
    """An intrinsic function whose value only exists in a deployed stack."""


class _NoValue:
    """Marker for `Ref: AWS::NoValue`: the surrounding key or list item disappears."""


NOTHING = _NoValue()


class CloudFormationLoader(yaml.SafeLoader):
    """SafeLoader that turns CloudFormation short tags (`!Ref x`, `!GetAtt a.b`, ...) into plain dicts."""


def _construct_tag(loader: CloudFormationLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:  # pragma: no cover - yaml has no other node kinds
        message = f"unexpected node for !{tag_suffix}"
        raise yaml.constructor.ConstructorError(None, None, message, node.start_mark)
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "Condition":
        return {"Condition": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        logical_id, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [logical_id, attribute]}
    return {f"Fn::{tag_suffix}": value}


CloudFormationLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path) -> dict[str, Any]:
    try:
        with path.open(encoding="utf-8") as stream:
            document = yaml.load(stream, Loader=CloudFormationLoader)  # noqa: S506 - a SafeLoader subclass
    except (OSError, yaml.YAMLError) as error:
        raise TemplateError(f"cannot read {path}: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise TemplateError(f"{path} is not a CloudFormation/SAM template (no Resources section)")
    return document


class Resolver:
    """Evaluates intrinsic functions against parameter values and the local pseudo parameters."""

    def __init__(self, template: Mapping[str, Any], parameter_overrides: Mapping[str, str] | None = None):
        self.template = template
        self.parameters: dict[str, Any] = {}
        for name, spec in (template.get("Parameters") or {}).items():
            if parameter_overrides and name in parameter_overrides:
                raw: Any = parameter_overrides[name]
            elif isinstance(spec, dict) and "Default" in spec:
                raw = spec["Default"]
            else:
                continue
            kind = spec.get("Type", "String") if isinstance(spec, dict) else "String"
            if kind == "CommaDelimitedList" or str(kind).startswith("List<"):
                self.parameters[name] = [item.strip() for item in str(raw).split(",")]
            else:
                self.parameters[name] = raw if isinstance(raw, str) else _scalar_text(raw)
        self.resources: Mapping[str, Any] = template.get("Resources") or {}
        self.conditions: Mapping[str, Any] = template.get("Conditions") or {}
        self._condition_values: dict[str, bool] = {}

    def ref(self, name: str) -> Any:
        if name == NO_VALUE:
            return NOTHING
        if name in self.parameters:
            return self.parameters[name]
        if name in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[name]
        if name in self.resources:
            return name
        raise Unresolvable(f"Ref {name}")

    def condition(self, name: str) -> bool:
        if name not in self._condition_values:
            if name not in self.conditions:
                raise Unresolvable(f"condition {name} is not defined")
            self._condition_values[name] = self._truth(self.conditions[name])
        return self._condition_values[name]

    def _truth(self, node: Any) -> bool:
        value = self.resolve(node)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"true", "false"}:
            return value.lower() == "true"
        raise Unresolvable("a condition did not evaluate to true or false")

    def resolve(self, node: Any) -> Any:
        """The value of `node` with every intrinsic evaluated; `NOTHING` for `AWS::NoValue`."""
        if isinstance(node, list):
            items = [self.resolve(item) for item in node]
            return [item for item in items if item is not NOTHING]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, argument), *_ = node.items()
            if key == "Ref":
                return self.ref(str(argument))
            if key == "Condition":
                return self.condition(str(argument))
            if key.startswith("Fn::"):
                return self._function(key, argument)
        resolved = {key: self.resolve(value) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value is not NOTHING}

    def _function(self, name: str, argument: Any) -> Any:  # noqa: PLR0911 - one branch per function
        if name == "Fn::Sub":
            return self._sub(argument)
        if name == "Fn::If":
            condition, when_true, when_false = argument
            return self.resolve(when_true if self.condition(condition) else when_false)
        if name == "Fn::Equals":
            left, right = (self.resolve(item) for item in argument)
            return _scalar_text(left) == _scalar_text(right)
        if name == "Fn::Not":
            return not self._truth(argument[0])
        if name == "Fn::And":
            return all(self._truth(item) for item in argument)
        if name == "Fn::Or":
            return any(self._truth(item) for item in argument)
        if name == "Fn::Join":
            separator, items = argument
            values = self.resolve(items)
            if not isinstance(values, list):
                raise Unresolvable("Fn::Join of something that is not a list")
            return str(separator).join(_scalar_text(item) for item in values)
        if name == "Fn::Select":
            index, items = argument
            values = self.resolve(items)
            if not isinstance(values, list):
                raise Unresolvable("Fn::Select from something that is not a list")
            return values[int(self.resolve(index))]
        if name == "Fn::Split":
            separator, text = argument
            return _scalar_text(self.resolve(text)).split(str(separator))
        raise Unresolvable(name)

    def _sub(self, argument: Any) -> str:
        if isinstance(argument, list):
            text, variables = argument[0], {key: self.resolve(value) for key, value in argument[1].items()}
        else:
            text, variables = argument, {}

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return _scalar_text(variables[name])
            if "." in name and name.split(".", 1)[0] in self.resources:
                raise Unresolvable(f"Fn::GetAtt {name}")
            return _scalar_text(self.ref(name))

        return _SUB_VARIABLE.sub(substitute, str(text))


def _scalar_text(value: Any) -> str:
    """How CloudFormation turns a scalar into text (booleans lower-case, like SAM CLI does)."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, dict | list) or value is NOTHING:
        raise Unresolvable("a list or an object where text is needed")
    return str(value)
