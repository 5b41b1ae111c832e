"""The example application's schema: an agritech backend (users own farms, farms have fields,
fields grow crops, crops yield harvests). migrations/versions builds exactly this; `create
--autogenerate` compares against it."""
from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Optional

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Identity, Index, Numeric, Text, func
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


def _created_at() -> Mapped[dt.datetime]:
    return mapped_column(TIMESTAMP(timezone=True), nullable=False, server_default=func.now())


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    public_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False, unique=True,
                                                 server_default=func.gen_random_uuid())
    email: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    full_name: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[dt.datetime] = _created_at()

    farms: Mapped[list["Farm"]] = relationship(back_populates="owner")


class Farm(Base):
    __tablename__ = "farms"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    region: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = _created_at()

    owner: Mapped[User] = relationship(back_populates="farms")
    fields: Mapped[list["Field"]] = relationship(back_populates="farm")


class Field(Base):
    __tablename__ = "fields"
    __table_args__ = (CheckConstraint("area_hectares > 0", name="fields_area_positive"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    farm_id: Mapped[int] = mapped_column(ForeignKey("farms.id", ondelete="CASCADE"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    area_hectares: Mapped[Decimal] = mapped_column(Numeric(10, 2), nullable=False)
    soil: Mapped[Optional[dict]] = mapped_column(JSONB)

    farm: Mapped[Farm] = relationship(back_populates="fields")


class Crop(Base):
    __tablename__ = "crops"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    field_id: Mapped[int] = mapped_column(ForeignKey("fields.id", ondelete="CASCADE"), nullable=False, index=True)
    species: Mapped[str] = mapped_column(Text, nullable=False)
    planted_on: Mapped[dt.date] = mapped_column(nullable=False)
    expected_harvest_on: Mapped[Optional[dt.date]]


class Harvest(Base):
    __tablename__ = "harvests"
    __table_args__ = (
        CheckConstraint("quantity_kg >= 0", name="harvests_quantity_not_negative"),
        Index("ix_harvests_crop_id_harvested_at", "crop_id", "harvested_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    crop_id: Mapped[int] = mapped_column(ForeignKey("crops.id", ondelete="CASCADE"), nullable=False)
    harvested_at: Mapped[dt.datetime] = mapped_column(TIMESTAMP(timezone=True), nullable=False)
    quantity_kg: Mapped[Decimal] = mapped_column(Numeric(12, 3), nullable=False)
    quality: Mapped[Optional[dict]] = mapped_column(JSONB)
