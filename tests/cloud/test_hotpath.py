"""The hot statements compiled once for asyncpg: positional arguments come from the named
parameters in the compiled order, literals keep their compiled values, and a missing parameter
is an error rather than a silent NULL."""

from __future__ import annotations

import pytest
from sqlalchemy import ARRAY, BigInteger, String, bindparam, literal, select

from promptready.cloud import hotpath


def _statement() -> hotpath.Prepared:
    return hotpath.Prepared(
        select(
            bindparam("p_b", type_=BigInteger()),
            literal("fixed"),
            bindparam("p_a", type_=String()),
            bindparam("p_b", type_=BigInteger()),
        )
    )


def test_arguments_follow_the_placeholders_of_the_compiled_sql() -> None:
    prepared = _statement()
    arguments = prepared.args({"p_a": "a", "p_b": 7})
    assert "$1::BIGINT" in prepared.sql and "$3::VARCHAR" in prepared.sql
    assert arguments == [7, "fixed", "a"]  # p_b is sent once and used twice


def test_a_literal_keeps_its_compiled_value() -> None:
    assert _statement().args({"p_a": None, "p_b": 0})[1] == "fixed"


def test_a_missing_parameter_is_refused() -> None:
    with pytest.raises(KeyError):
        _statement().args({"p_a": "a"})


@pytest.mark.parametrize("rate_limited", [False, True])
def test_the_real_admit_statement_compiles(rate_limited: bool) -> None:
    prepared = hotpath.Prepared(hotpath.admit_statement(rate_limited))
    assert prepared.sql.startswith("WITH spend AS")


@pytest.mark.parametrize("batched", [False, True])
def test_the_real_settle_statement_compiles(batched: bool) -> None:
    sql = hotpath.Prepared(hotpath.settle_statement(batched)).sql
    assert sql.startswith("WITH hold AS")
    assert ("cardinality(" in sql) is batched  # only a batch's first settle takes its locks


def test_an_array_parameter_is_converted_as_sqlalchemy_would() -> None:
    prepared = hotpath.Prepared(select(bindparam("p_ids", type_=ARRAY(String()))))
    assert prepared.args({"p_ids": ("a", "b")}) == [["a", "b"]]
