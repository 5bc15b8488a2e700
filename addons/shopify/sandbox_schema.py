"""The emulator's GraphQL schema: Shopify's own published Admin schema
(:mod:`addons.shopify.admin_schema`), so every query the client sends is validated, and its
variables coerced, as Shopify does; plus the query-cost calculation Shopify's throttle is
based on.

Resolvers are plain dicts ("views") built from the emulator's state; a callable value is
called with the field's arguments (graphql-core's default resolver), which is how
connections take ``first``/``after``.
"""
from __future__ import annotations

import base64
import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    is_leaf_type,
    value_from_ast_untyped,
)


@functools.lru_cache(maxsize=512)
def _accepted_by_code(code: Any) -> frozenset[str] | None:
    if code.co_flags & inspect.CO_VARKEYWORDS:
        return None
    return frozenset(code.co_varnames[:code.co_argcount + code.co_kwonlyargcount])


def _accepted(fn: Callable[..., Any]) -> frozenset[str] | None:
    """The keyword arguments ``fn`` takes (None: any); the views' lambdas are new on each
    request, so what is remembered is their code."""
    code = getattr(fn, "__code__", None)
    if code is not None:
        return _accepted_by_code(code)
    params = inspect.signature(fn).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return frozenset(p.name for p in params)


def resolve_field(source: Any, info: Any, **args: Any) -> Any:
    """graphql-core's default resolver, except that a view's callable receives only the
    arguments it names: Shopify's schema gives many fields arguments with defaults
    (``reverse: false``…) that the emulator has no use for."""
    value = source.get(info.field_name) if isinstance(source, dict) else getattr(source, info.field_name, None)
    if callable(value):
        accepted = _accepted(value)
        return value(info, **(args if accepted is None else {k: v for k, v in args.items() if k in accepted}))
    return value


@functools.cache
def schema() -> GraphQLSchema:
    from .admin_schema import admin_schema

    return admin_schema()


# ----------------------------------------------------------------------------- connections
def _cursor(index: int) -> str:
    return base64.b64encode(f"cursor:{index}".encode()).decode()


def _index(cursor: str | None) -> int:
    if not cursor:
        return -1
    try:
        return int(base64.b64decode(cursor.encode()).decode().split(":", 1)[1])
    except (ValueError, IndexError, UnicodeDecodeError):
        return -1


def connection(items: Sequence[Any], first: int | None = None, after: str | None = None,
               view: Callable[[Any], Any] = lambda x: x) -> dict[str, Any]:
    """A Relay connection page over ``items`` (positions are the cursors)."""
    start = _index(after) + 1
    size = len(items) if first is None else max(first, 0)
    page = list(items[start:start + size])
    end = start + len(page) - 1
    return {
        "nodes": [view(x) for x in page],
        "edges": [{"node": view(x), "cursor": _cursor(start + i)} for i, x in enumerate(page)],
        "pageInfo": {"hasNextPage": start + len(page) < len(items), "hasPreviousPage": start > 0,
                     "startCursor": _cursor(start) if page else None,
                     "endCursor": _cursor(end) if page else None},
    }


def conn_field(items: Callable[[], Sequence[Any]], view: Callable[[Any], Any]) -> Callable[..., dict[str, Any]]:
    """A view value resolving a connection with ``first``/``after`` lazily."""
    def resolve(_info: Any, first: int | None = None, after: str | None = None, **_: Any) -> dict[str, Any]:
        return connection(items(), first, after, view)

    return resolve


# ----------------------------------------------------------------------------- cost
MUTATION_COST = 10


def requested_cost(gql_schema: GraphQLSchema, operation: OperationDefinitionNode,
                   fragments: dict[str, FragmentDefinitionNode], variables: dict[str, Any]) -> int:
    """Shopify's static cost: scalars and enums 0, objects 1, connections ``2 + first ×``
    the cost of one node, a mutation 10 plus what it selects."""
    root = gql_schema.mutation_type if operation.operation.value == "mutation" else gql_schema.query_type
    assert root is not None
    total = _selection_cost(gql_schema, root, operation.selection_set, fragments, variables)
    if operation.operation.value == "mutation":
        total += MUTATION_COST * len(operation.selection_set.selections)
    return max(total, 1)


def _arg(node: FieldNode, name: str, variables: dict[str, Any]) -> Any:
    for arg in node.arguments or ():
        if arg.name.value == name:
            return value_from_ast_untyped(arg.value, variables)
    return None


def _fields(gql_schema: GraphQLSchema, parent: Any, selection_set: SelectionSetNode | None,
            fragments: dict[str, FragmentDefinitionNode]) -> list[tuple[Any, FieldNode]]:
    """(type the field is read on, field node) for every field selected, fragments expanded."""
    found: list[tuple[Any, FieldNode]] = []
    for sel in (selection_set.selections if selection_set else ()):
        if isinstance(sel, FieldNode):
            found.append((parent, sel))
        elif isinstance(sel, InlineFragmentNode):
            target = gql_schema.get_type(sel.type_condition.name.value) if sel.type_condition else parent
            found += _fields(gql_schema, target, sel.selection_set, fragments)
        elif isinstance(sel, FragmentSpreadNode) and sel.name.value in fragments:
            frag = fragments[sel.name.value]
            found += _fields(gql_schema, gql_schema.get_type(frag.type_condition.name.value), frag.selection_set,
                             fragments)
    return found


def _selection_cost(gql_schema: GraphQLSchema, parent: Any, selection_set: SelectionSetNode | None,
                    fragments: dict[str, FragmentDefinitionNode], variables: dict[str, Any]) -> int:
    total = 0
    for owner, node in _fields(gql_schema, parent, selection_set, fragments):
        field = getattr(owner, "fields", {}).get(node.name.value)
        if field is None:
            continue
        named = get_named_type(field.type)
        if is_leaf_type(named):
            continue
        if named.name.endswith("Connection"):
            first = _arg(node, "first", variables) or _arg(node, "last", variables) or 0
            per_node = 0
            for inner_owner, inner in _fields(gql_schema, named, node.selection_set, fragments):
                if inner.name.value == "nodes":
                    node_type = get_named_type(inner_owner.fields["nodes"].type)
                    per_node = max(per_node, 1 + _selection_cost(gql_schema, node_type, inner.selection_set,
                                                                 fragments, variables))
                elif inner.name.value == "edges":
                    edge_type = get_named_type(inner_owner.fields["edges"].type)
                    per_node = max(per_node, 1 + _selection_cost(gql_schema, edge_type, inner.selection_set,
                                                                 fragments, variables))
            total += 2 + int(first) * per_node
        else:
            total += 1 + _selection_cost(gql_schema, named, node.selection_set, fragments, variables)
    return total
