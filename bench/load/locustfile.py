"""Locust version of the shopper session `souq load` plays.

bench/load (main.go) runs this file with Locust to compare its cost with
`souq load`'s. Each Locust user plays shopper visits back to back, one
visit per task, following internal/shopper/session.go step by step with
the same probabilities and the same requests:

 1. a product list: a search (35 %, in the shopper's language or, one time
    in five, the other), a category (40 % of the rest), or the featured
    list (a quarter of those sorted); after a search that found nothing,
    half the shoppers open the featured list;
 2. one to five product pages, mostly near the top of the list; during a
    flash sale, sale hunters (60 %) mostly the sale's products, learned
    from GET /api/v1/sales/current at most every 15 s per process;
 3. having seen a product in stock, 30 % (45 % during a sale) open a cart,
    add one to three of the products seen (one to three units each) and
    view the cart;
 4. of those, 45 % (60 % during a sale) order from the cart: cash on
    delivery, with a random Idempotency-Key, sent once more with the same
    key when the first try got no answer or a 5xx.

A think time drawn between SOUQ_THINK_MIN and SOUQ_THINK_MAX seconds
(twice that before the order) comes before every step but the first; a
new visit starts as soon as the last one ends. No behaviour events are
sent (as `souq load` without --write-key). Requests are named by souq
load's steps (browse, search, product, sale, cart.create, cart.add,
cart.view, checkout), so the two mixes compare line by line; a 409 out-of-stock answer is counted as
an answer, not a failure, as `souq load` does; every other non-2xx answer,
a timeout or no answer is a failure.

Settings come from the environment (bench/load sets them):
SOUQ_THINK_MIN, SOUQ_THINK_MAX (seconds, default 0.5 and 3) and
SOUQ_TIMEOUT (seconds per request, default 10). Two user classes play the
same visit: ShopperFast with Locust's faster client (geventhttpclient)
and Shopper with its default one (python-requests); name one on the
command line.
"""

import base64
import json
import os
import random
import secrets
import time
from urllib.parse import quote, urlencode

import gevent
from locust import FastHttpUser, HttpUser, constant, task

THINK_MIN = float(os.environ.get("SOUQ_THINK_MIN", "0.5"))
THINK_MAX = float(os.environ.get("SOUQ_THINK_MAX", "3"))
TIMEOUT = float(os.environ.get("SOUQ_TIMEOUT", "10"))

P_SEARCH = 0.35
P_CATEGORY = 0.40
P_RETRY_LISTING = 0.5
P_SALE_HUNTER = 0.6
P_SALE_VIEW = 0.75
P_CART = 0.30
P_CART_SALE = 0.45
P_CHECKOUT = 0.45
P_CHECKOUT_SALE = 0.60
PAGE_SIZE = 24
SALE_TTL = 15.0

VIEWS_WEIGHTS = [0.30, 0.25, 0.20, 0.15, 0.10]
CART_SIZE_WEIGHTS = [0.60, 0.30, 0.10]
UNITS_WEIGHTS = [0.75, 0.20, 0.05]

USER_AGENT = "souq-shopper/1 (simulated shopper)"

# Markets as internal/souq and internal/shopper/people.go describe them:
# share of shoppers, UTC offset, share browsing in Arabic, phone prefix
# and digits, mobile starts, cities.
MARKETS = {
    "SA": dict(share=0.36, utc=3, arabic=0.70, prefix="+966", digits=9,
               starts=["50", "53", "54", "55", "56", "58", "59"],
               cities=["Riyadh", "Jeddah", "Mecca", "Medina", "Dammam", "Khobar", "Dhahran", "Taif", "Tabuk", "Abha"]),
    "AE": dict(share=0.30, utc=4, arabic=0.35, prefix="+971", digits=9,
               starts=["50", "52", "54", "55", "56", "58"],
               cities=["Abu Dhabi", "Dubai", "Sharjah", "Ajman", "Umm Al Quwain", "Ras Al Khaimah", "Fujairah", "Al Ain"]),
    "KW": dict(share=0.12, utc=3, arabic=0.60, prefix="+965", digits=8,
               starts=["5", "6", "9"],
               cities=["Kuwait City", "Hawalli", "Salmiya", "Farwaniya", "Ahmadi", "Jahra", "Mubarak Al-Kabeer"]),
    "QA": dict(share=0.10, utc=3, arabic=0.45, prefix="+974", digits=8,
               starts=["3", "5", "6", "7"],
               cities=["Doha", "Al Rayyan", "Al Wakrah", "Al Khor", "Lusail", "Umm Salal"]),
    "OM": dict(share=0.07, utc=4, arabic=0.60, prefix="+968", digits=8,
               starts=["71", "72", "91", "92", "93", "95", "99"],
               cities=["Muscat", "Seeb", "Salalah", "Sohar", "Nizwa", "Sur", "Ibri"]),
    "BH": dict(share=0.05, utc=3, arabic=0.50, prefix="+973", digits=8,
               starts=["33", "34", "36", "39"],
               cities=["Manama", "Muharraq", "Riffa", "Hamad Town", "Isa Town", "Sitra"]),
}
MARKET_ORDER = ["AE", "SA", "QA", "KW", "BH", "OM"]  # souq.MarketCodes()

ACTIVITY_BY_HOUR = [
    0.55, 0.38, 0.24, 0.16, 0.12, 0.12,
    0.16, 0.22, 0.30, 0.38, 0.45, 0.50,
    0.52, 0.52, 0.56, 0.62, 0.68, 0.75,
    0.82, 0.91, 1.00, 1.00, 1.00, 1.00,
]

CITY_WEIGHT = {
    "Dubai": 6, "Abu Dhabi": 4, "Sharjah": 3, "Al Ain": 1.5, "Ajman": 1.5,
    "Riyadh": 7, "Jeddah": 5, "Dammam": 2.5, "Mecca": 2.5, "Medina": 2, "Khobar": 2,
    "Doha": 6, "Al Rayyan": 3, "Lusail": 1.5, "Al Wakrah": 1.5,
    "Kuwait City": 3, "Hawalli": 2.5, "Salmiya": 2.5, "Farwaniya": 2.5, "Ahmadi": 1.5,
    "Manama": 4, "Muharraq": 2, "Riffa": 2,
    "Muscat": 6, "Seeb": 3, "Salalah": 2, "Sohar": 2,
}

AREAS = {
    "Dubai": ["Al Barsha", "Jumeirah", "Deira", "Dubai Marina", "Al Nahda", "Mirdif", "Business Bay", "Al Qusais"],
    "Abu Dhabi": ["Khalifa City", "Al Reem Island", "Al Khalidiyah", "Mohammed Bin Zayed City", "Al Mushrif"],
    "Sharjah": ["Al Majaz", "Al Nahda", "Muwaileh", "Al Khan"],
    "Riyadh": ["Al Olaya", "Al Malqa", "Al Nakheel", "Al Yasmin", "Al Sulimaniyah", "Hittin"],
    "Jeddah": ["Al Rawdah", "Al Shati", "Al Hamra", "Al Zahra", "Obhur"],
    "Dammam": ["Al Faisaliyah", "Al Shati", "Al Mazruiyah"],
    "Doha": ["West Bay", "Al Sadd", "The Pearl", "Al Dafna", "Bin Mahmoud"],
    "Kuwait City": ["Sharq", "Dasman", "Qibla", "Mirqab"],
    "Salmiya": ["Block 10", "Block 12", "Block 4"],
    "Manama": ["Juffair", "Seef", "Adliya", "Hoora"],
    "Muscat": ["Al Khuwair", "Qurum", "Madinat Sultan Qaboos", "Al Ghubra", "Ruwi"],
}
GENERIC_AREAS = ["Al Nahda", "Al Rawdah", "Al Safa", "Al Aziziyah", "Al Andalus", "Al Salam", "Downtown"]

GIVEN_NAMES = [
    "Mariam", "Fatima", "Noura", "Aisha", "Shamma", "Hessa", "Latifa", "Maitha", "Reem", "Sara",
    "Dana", "Haya", "Lulwa", "Amal", "Noor", "Shaikha", "Dalal", "Jawaher", "Munira", "Asma",
    "Rawan", "Lama", "Ghada", "Hind", "Alanoud", "Nouf", "Abeer", "Salma",
    "Ahmed", "Mohammed", "Khalid", "Saeed", "Omar", "Abdullah", "Faisal", "Sultan", "Hamad", "Yousef",
]
FAMILY_NAMES = {
    "AE": ["Al Mansoori", "Al Nuaimi", "Al Shamsi", "Al Ketbi", "Al Mazrouei", "Al Falasi", "Al Dhaheri", "Al Suwaidi"],
    "SA": ["Al Qahtani", "Al Otaibi", "Al Ghamdi", "Al Harbi", "Al Zahrani", "Al Shehri", "Al Dossari", "Al Mutairi"],
    "KW": ["Al Ajmi", "Al Enezi", "Al Rashidi", "Al Mutawa", "Al Kandari", "Al Azmi", "Al Shammari"],
    "QA": ["Al Kuwari", "Al Marri", "Al Sulaiti", "Al Mohannadi", "Al Emadi", "Al Hajri", "Al Naimi"],
    "BH": ["Al Mahmood", "Al Aradi", "Al Sayed", "Al Doseri", "Al Mannai", "Al Buainain", "Al Jishi"],
    "OM": ["Al Balushi", "Al Harthy", "Al Rawahi", "Al Hinai", "Al Maskari", "Al Lawati", "Al Amri"],
}
EXPAT_NAMES = [
    "Priya Nair", "Anjali Menon", "Maria Santos", "Joy Dela Cruz", "Aisha Khan", "Fatima Hussain",
    "Sarah Thomas", "Rania Haddad", "Lina Saleh", "Hana Kim", "Emily Clarke", "Zainab Sheikh",
]
EXPAT_SHARE = {"AE": 0.45, "QA": 0.40, "KW": 0.30, "BH": 0.30, "OM": 0.25, "SA": 0.20}
EMAIL_DOMAINS = ["example.com", "example.net", "example.org"]

SEARCH_TERMS = {
    "en": ["serum", "sunscreen", "lip tint", "toner", "cleanser", "cushion", "snail", "sheet mask",
           "niacinamide", "shampoo", "cica", "vitamin c", "retinol"],
    "ar": ["سيروم", "واقي شمس", "تينت", "ماسك", "قناع", "كريم", "تونر", "غسول", "شامبو", "مرطب"],
}
CATEGORIES = ["skincare", "makeup", "haircare", "bodycare", "suncare", "masks"]
SORTS = ["newest", "price_asc", "price_desc"]


def pick_index(weights):
    x = random.random() * sum(weights)
    for i, w in enumerate(weights):
        x -= w
        if x < 0:
            return i
    return len(weights) - 1


def local_activity(now, utc_offset):
    """The daily curve (internal/shopper/curve.go) at a market's local time."""
    s = (now + utc_offset * 3600) % 86400
    h = int(s // 3600)
    frac = (s % 3600) / 3600
    return ACTIVITY_BY_HOUR[h] + (ACTIVITY_BY_HOUR[(h + 1) % 24] - ACTIVITY_BY_HOUR[h]) * frac


def pick_market():
    now = time.time()
    w = [MARKETS[m]["share"] * local_activity(now, MARKETS[m]["utc"]) for m in MARKET_ORDER]
    return MARKET_ORDER[pick_index(w)]


def pick_city(m):
    cities = MARKETS[m]["cities"]
    return cities[pick_index([CITY_WEIGHT.get(c, 1) for c in cities])]


def phone_number(m):
    mk = MARKETS[m]
    b = random.choice(mk["starts"])
    while len(b) < mk["digits"]:
        b += str(random.randrange(10))
    return mk["prefix"] + b


def customer_name(m):
    if random.random() < EXPAT_SHARE[m]:
        return random.choice(EXPAT_NAMES)
    return random.choice(GIVEN_NAMES) + " " + random.choice(FAMILY_NAMES[m])


def email_for(name):
    b = ""
    for r in name.lower():
        if "a" <= r <= "z":
            b += r
        elif r == " " and b and not b.endswith("."):
            b += "."
    local = b.strip(".") or "shopper"
    return "%s%d@%s" % (local, random.randrange(100), random.choice(EMAIL_DOMAINS))


def address_line(m):
    if m == "BH":
        return "Flat %d, Building %d, Road %d, Block %d" % (
            1 + random.randrange(40), 1 + random.randrange(2000), 1 + random.randrange(4000), 100 + random.randrange(900))
    if m == "OM":
        return "House %d, Way %d" % (1 + random.randrange(300), 1000 + random.randrange(8000))
    if m == "KW":
        return "Street %d, House %d" % (1 + random.randrange(150), 1 + random.randrange(80))
    if random.randrange(2) == 0:
        return "Villa %d, Street %d" % (1 + random.randrange(120), 1 + random.randrange(60))
    return "Apartment %d, Building %d" % (101 + random.randrange(2400), 1 + random.randrange(400))


def area_in(city):
    return random.choice(AREAS.get(city, GENERIC_AREAS))


def idempotency_key():
    """26 random base32 characters, as Go's crypto/rand.Text."""
    return base64.b32encode(secrets.token_bytes(17)).decode()[:26]


def anonymous_id():
    b = bytearray(secrets.token_bytes(16))
    b[6] = b[6] & 0x0F | 0x40
    b[8] = b[8] & 0x3F | 0x80
    h = b.hex()
    return "-".join([h[0:8], h[8:12], h[12:16], h[16:20], h[20:32]])


class SaleCache:
    """The running flash sale's products by market, shared by every user
    of the process and refreshed by whichever visit finds it stale, as the
    Go simulator's saleCache."""

    def __init__(self):
        self.fetched = None
        self.refreshing = False
        self.ids = {}

    def products(self, session, market):
        now = time.monotonic()
        if self.refreshing or (self.fetched is not None and now - self.fetched < SALE_TTL):
            return self.ids.get(market, [])
        self.refreshing = True
        try:
            ok, sale = session.call("GET", "/api/v1/sales/current", "sale", ok_codes=(200, 404))
            if ok is not None:
                ids = {}
                if ok == 200 and sale and sale.get("active"):
                    for pid, prices in sale.get("prices", {}).items():
                        for m in prices:
                            ids.setdefault(m, []).append(pid)
                    for lst in ids.values():
                        lst.sort()
                self.ids, self.fetched = ids, now
        finally:
            self.refreshing = False
        return self.ids.get(market, [])


SALE = SaleCache()


class ShopperVisit:
    """One visit, played by a Locust user's client."""

    def __init__(self, user):
        self.client = user.client
        self.call_kwargs = user.call_kwargs
        self.market = pick_market()
        self.city = pick_city(self.market)
        self.lang = "ar" if random.random() < MARKETS[self.market]["arabic"] else "en"
        self.anonymous_id = anonymous_id()
        self.seen = set()

    def call(self, method, path, name, body=None, headers=None, ok_codes=None):
        """Sends one request and returns (status, decoded JSON answer), or
        (None, None) with no answer. A status outside 2xx (and ok_codes)
        other than 409 out-of-stock is a failure in Locust's figures."""
        h = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if headers:
            h.update(headers)
        kw = dict(name=name, headers=h, catch_response=True, **self.call_kwargs)
        if body is not None:
            kw["data"] = json.dumps(body)
            h["Content-Type"] = "application/json"
        try:
            with self.client.request(method, path, **kw) as resp:
                code = resp.status_code or 0
                if code == 0:
                    resp.failure("no answer")
                    return None, None
                data = None
                body = resp.content
                if body:
                    try:
                        data = json.loads(body)
                    except ValueError:
                        data = None
                if 200 <= code <= 299 or (ok_codes and code in ok_codes):
                    resp.success()
                elif code == 409 and data and data.get("type") == "urn:souq:problem:out-of-stock":
                    resp.success()
                else:
                    resp.failure("status %d" % code)
                return code, data
        except Exception:  # a timeout or a connection error the client raised
            return None, None

    def think(self, factor=1.0):
        gevent.sleep((THINK_MIN + random.random() * (THINK_MAX - THINK_MIN)) * factor)

    def list(self, q):
        code, page = self.call("GET", "/api/v1/products?" + urlencode(q), "search" if "q" in q else "browse")
        if code is None or not 200 <= code <= 299:
            return None
        return [p["id"] for p in page.get("items", [])]

    def browse(self):
        q = {"market": self.market, "page_size": str(PAGE_SIZE)}
        is_search = False
        x = random.random()
        if x < P_SEARCH:
            lang = self.lang
            if random.random() < 0.2:
                lang = "en" if lang == "ar" else "ar"
            q["q"] = random.choice(SEARCH_TERMS[lang])
            is_search = True
        elif x < P_SEARCH + (1 - P_SEARCH) * P_CATEGORY:
            q["category"] = random.choice(CATEGORIES)
        elif random.randrange(4) == 0:
            q["sort"] = random.choice(SORTS)
        ids = self.list(q)
        if ids is None:
            return None, False
        if not ids and is_search and random.random() < P_RETRY_LISTING:
            return None, True
        return ids, False

    def next_product(self, ids, sale, hunter):
        for _ in range(8):
            if hunter and (not ids or random.random() < P_SALE_VIEW):
                pid = random.choice(sale)
            elif ids:
                pid = ids[min(int(random.expovariate(1) * 6), len(ids) - 1)]
            else:
                return None
            if pid not in self.seen:
                return pid
        return None

    def run(self):
        sale = SALE.products(self, self.market)
        hunter = bool(sale) and random.random() < P_SALE_HUNTER
        ids, retry = self.browse()
        if retry:
            self.think()
            ids = self.list({"market": self.market, "page_size": str(PAGE_SIZE)})
        if ids is None:
            return
        views = 1 + pick_index(VIEWS_WEIGHTS)
        viewed = []
        while views > 0:
            pid = self.next_product(ids, sale, hunter)
            if pid is None:
                break
            self.think()
            code, p = self.call("GET", "/api/v1/products/%s?%s" % (quote(pid, safe=""), urlencode({"market": self.market})),
                                "product")
            if code is not None and 200 <= code <= 299:
                viewed.append(p)
                self.seen.add(pid)
            views -= 1
        in_stock = [p for p in viewed if p.get("in_stock")]
        pc, pb = (P_CART_SALE, P_CHECKOUT_SALE) if sale else (P_CART, P_CHECKOUT)
        if not in_stock or random.random() >= pc:
            return

        self.think()
        code, cart = self.call("POST", "/api/v1/carts", "cart.create", body={"market": self.market})
        if code is None or not 200 <= code <= 299:
            return
        random.shuffle(in_stock)
        to_add = in_stock[:min(len(in_stock), 1 + pick_index(CART_SIZE_WEIGHTS))]
        cart_path = "/api/v1/carts/" + quote(cart["id"], safe="")
        added = 0
        for p in to_add:
            self.think()
            qty = 1 + pick_index(UNITS_WEIGHTS)
            code, _ = self.call("POST", cart_path + "/items", "cart.add",
                                body={"product_id": p["id"], "quantity": qty})
            if code is not None and 200 <= code <= 299:
                added += 1
        if added == 0:
            return
        self.think()
        code, cart = self.call("GET", cart_path, "cart.view")
        if code is None or not 200 <= code <= 299:
            return
        if random.random() >= pb:
            return

        name = customer_name(self.market)
        order = {
            "market": self.market,
            "cart_id": cart["id"],
            "customer": {"name": name, "email": email_for(name), "phone": phone_number(self.market)},
            "shipping_address": {"line1": address_line(self.market), "area": area_in(self.city),
                                 "city": self.city, "country": self.market},
            "payment": {"method": "cod"},
        }
        key = idempotency_key()
        self.think(2)  # filling in the form takes longer
        code, _ = self.call("POST", "/api/v1/orders", "checkout", body=order,
                            headers={"Idempotency-Key": key})
        if code is None or code >= 500:
            # The order may or may not have been placed: the same request
            # with the same key replays the first answer if it was.
            self.think()
            self.call("POST", "/api/v1/orders", "checkout", body=order, headers={"Idempotency-Key": key})


class ShopperFast(FastHttpUser):
    """A shopper with Locust's faster HTTP client (geventhttpclient)."""

    wait_time = constant(0)  # the next shopper arrives as the last one leaves
    network_timeout = TIMEOUT
    connection_timeout = TIMEOUT
    call_kwargs = {}

    @task
    def visit(self):
        ShopperVisit(self).run()


class Shopper(HttpUser):
    """A shopper with Locust's default HTTP client (python-requests)."""

    wait_time = constant(0)
    call_kwargs = {"timeout": TIMEOUT}

    @task
    def visit(self):
        ShopperVisit(self).run()
