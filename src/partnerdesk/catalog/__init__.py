"""The catalog: products, SKUs and their availabilities (prices) per market, as Partner Center has them."""
