"""Customers, products and product variants (a variant change is its product's ``updated``)."""

from __future__ import annotations

import copy

from emulator import errors
from emulator.models import (
    CreateCustomerDto,
    CreateProductDto,
    CreateProductVariantDto,
    CreateProductWithVariantsDto,
    UpdateCustomerDto,
    UpdateProductDto,
    UpdateProductVariantDto,
    VariantFields,
)
from emulator.tables import BUSINESS_ID, Entity, Tables


def _own_business(given: int | None) -> None:
    if given is not None and given != BUSINESS_ID:
        raise errors.field_error("businessId", f"must be this key's business ({BUSINESS_ID})")


class Catalog(Tables):
    def render(self, table: str, entity: Entity) -> Entity:
        if table == "products":
            return {**copy.deepcopy(entity), "variants": self.variants(entity["id"])}
        return super().render(table, entity)

    # -- customers ---------------------------------------------------------------------------

    def create_customer(self, body: CreateCustomerDto) -> Entity:
        _own_business(body.businessId)
        return self.insert("customers", {**body.fields(), "businessId": BUSINESS_ID})

    def update_customer(self, entity_id: int, body: UpdateCustomerDto) -> Entity:
        return self.change("customers", entity_id, body.changes())

    # -- products ----------------------------------------------------------------------------

    def create_product(self, body: CreateProductDto) -> Entity:
        _own_business(body.businessId)
        return self.insert("products", {**body.fields(), "businessId": BUSINESS_ID})

    def create_product_with_variants(self, body: CreateProductWithVariantsDto) -> Entity:
        """The product and its variants in one change: one ``product.created`` with them all."""
        _own_business(body.businessId)
        now = self.stamp()
        product_id = self.new_id("products")
        fields = body.fields()
        del fields["variants"]
        product = {"id": product_id, **fields, "businessId": BUSINESS_ID}
        product |= {"createdAt": now, "updatedAt": now}
        for variant in body.variants:
            self._store_variant(product_id, variant, now)
        self.tables["products"][product_id] = product
        self.emit("products", "created", product)
        return product

    def update_product(self, entity_id: int, body: UpdateProductDto) -> Entity:
        return self.change("products", entity_id, body.changes())

    def delete_product(self, entity_id: int) -> Entity:
        product = self.delete("products", entity_id)
        for variant in self._variant_rows(entity_id):
            self.deleted["variants"].add(variant["id"])
        return product

    # -- variants ----------------------------------------------------------------------------

    def _variant_rows(self, product_id: int) -> list[Entity]:
        rows = [v for v in self.live("variants") if v["productId"] == product_id]
        return sorted(rows, key=lambda v: (v["sortOrder"], v["id"]))

    def variants(self, product_id: int) -> list[Entity]:
        """The product's live variants, by ``sortOrder`` then id."""
        return copy.deepcopy(self._variant_rows(product_id))

    def _store_variant(self, product_id: int, body: VariantFields, now: str) -> Entity:
        fields = body.fields()
        fields.pop("productId", None)
        variant = {"id": self.new_id("variants"), **fields, "productId": product_id}
        variant |= {"createdAt": now, "updatedAt": now}
        self.tables["variants"][variant["id"]] = variant
        return variant

    def _product_for(self, product_id: int) -> Entity:
        if not self.exists("products", product_id):
            raise errors.field_error("productId", f"product {product_id} does not exist")
        return self.get("products", product_id)

    def create_variant(self, body: CreateProductVariantDto) -> Entity:
        self._product_for(body.productId)
        variant = self._store_variant(body.productId, body, self.stamp())
        self.touch("products", body.productId)
        return variant

    def update_variant(self, variant_id: int, body: UpdateProductVariantDto) -> Entity:
        variant = self.get("variants", variant_id)
        changes = body.changes()
        old_product = variant["productId"]
        if "productId" in changes:
            self._product_for(changes["productId"])
        variant |= changes | {"updatedAt": self.stamp()}
        self.touch("products", variant["productId"])
        if old_product != variant["productId"] and self.exists("products", old_product):
            self.touch("products", old_product)
        return variant

    def delete_variant(self, variant_id: int) -> None:
        variant = self.get("variants", variant_id)
        self.deleted["variants"].add(variant_id)
        self.touch("products", variant["productId"])
