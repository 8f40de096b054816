package dashboard

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/souq-commerce/souq/internal/souq"
)

// The page's two languages. Every word of the page comes from messages;
// static/dashboard.js carries the few it writes itself (status, ages,
// comparison words) in both languages. Figures are written with Latin
// digits in both languages, and the page says so.

// pageLang picks the page's language: ?lang=en|ar, else the first of ar
// and en that Accept-Language prefers, else English. An unknown ?lang is
// ignored rather than refused: the page is for people, who follow links.
func pageLang(r *http.Request) souq.Lang {
	switch r.URL.Query().Get("lang") {
	case "ar":
		return souq.Arabic
	case "en":
		return souq.English
	}
	return acceptLang(r.Header.Get("Accept-Language"))
}

// acceptLang returns the language of ar and en with the highest q in an
// Accept-Language header (the earlier on a tie), else English.
func acceptLang(header string) souq.Lang {
	best, bestQ := souq.English, 0.0
	for _, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if primary != "ar" && primary != "en" {
			continue
		}
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		if q > bestQ {
			best, bestQ = souq.Lang(primary), q
		}
	}
	return best
}

// nameIn is a catalogue name in lang, falling back to the other language
// when it is missing there.
func nameIn(n souq.Localized, lang souq.Lang) string {
	if lang == souq.Arabic {
		if n.AR != "" {
			return n.AR
		}
		return n.EN
	}
	if n.EN != "" {
		return n.EN
	}
	return n.AR
}

// msg is one text of the page in both languages.
type msg struct{ en, ar string }

// messages are the page's words, by key.
var messages = map[string]msg{
	"title":                  {"Souq war room", "غرفة عمليات سوق"},
	"skip":                   {"Skip to the figures", "انتقل إلى الأرقام"},
	"switch":                 {"العربية", "English"},
	"figures_at":             {"Figures at", "الأرقام في"},
	"events_to":              {"events received up to", "الأحداث المستلمة حتى"},
	"static":                 {"as of page load (live updates need JavaScript)", "عند تحميل الصفحة (التحديث المباشر يتطلب جافاسكربت)"},
	"unavailable":            {"figures unavailable", "الأرقام غير متاحة"},
	"notice":                 {"The figures are unavailable just now; the page fills in when they are back.", "الأرقام غير متاحة الآن؛ ستظهر الصفحة عند عودتها."},
	"digits":                 {"Numbers are written in Latin digits (0–9); money is VAT-inclusive; times are %s.", "تُكتب الأرقام بالأرقام اللاتينية (0–9)؛ المبالغ شاملة ضريبة القيمة المضافة؛ الأوقات بتوقيت %s."},
	"no_events":              {"no events yet", "لا أحداث بعد"},
	"behind":                 {"%s behind", "متأخرة %s"},
	"sec":                    {"s", "ث"},
	"min":                    {"min", "د"},
	"hour":                   {"h", "س"},
	"alerts":                 {"Alerts", "التنبيهات"},
	"no_alerts":              {"No active alerts.", "لا تنبيهات نشطة."},
	"critical":               {"Critical", "حرج"},
	"warning":                {"Warning", "تحذير"},
	"since":                  {"since", "منذ"},
	"sale":                   {"Sale", "التخفيضات"},
	"sale_running":           {"running, ends at %s", "جارية، تنتهي في %s"},
	"sale_ended":             {"ended at %s", "انتهت في %s"},
	"time_left":              {"Time left", "الوقت المتبقي"},
	"during":                 {"During the sale", "خلال التخفيضات"},
	"before":                 {"Same length before", "المدة نفسها قبلها"},
	"revenue_aed":            {"Revenue (AED)", "الإيرادات (درهم)"},
	"units":                  {"Units", "الوحدات"},
	"orders":                 {"Orders", "الطلبات"},
	"sold_offered":           {"Sold of offered", "المباع من المعروض"},
	"stock_left":             {"Stock left", "المخزون المتبقي"},
	"units_min":              {"Units per minute", "وحدات في الدقيقة"},
	"sold_out_at":            {"Sells out at", "ينفد في"},
	"sold_out":               {"SOLD OUT", "نفدت الكمية"},
	"product":                {"Product", "المنتج"},
	"brand":                  {"Brand", "العلامة التجارية"},
	"headline":               {"Today against yesterday and last week", "اليوم مقارنة بالأمس والأسبوع الماضي"},
	"today_so_far":           {"today so far", "اليوم حتى الآن"},
	"vs_yesterday":           {"vs yesterday", "مقارنة بالأمس"},
	"vs_last_week":           {"vs last week", "مقارنة بالأسبوع الماضي"},
	"up":                     {"up", "ارتفاع"},
	"down":                   {"down", "انخفاض"},
	"same":                   {"no change", "دون تغيير"},
	"no_compare":             {"no figure to compare", "لا رقم للمقارنة"},
	"no_data":                {"no data", "لا بيانات"},
	"up_from_zero":           {"up from zero", "ارتفاع من الصفر"},
	"compare_note":           {"Each figure today up to now against the same span of time yesterday and on the same weekday last week.", "كل رقم من بداية اليوم حتى الآن مقارنة بالفترة نفسها أمس وفي اليوم نفسه من الأسبوع الماضي."},
	"totals":                 {"Last hour and today", "الساعة الأخيرة واليوم"},
	"last_hour":              {"last hour", "الساعة الأخيرة"},
	"today":                  {"today", "اليوم"},
	"totals_note":            {"Last hour: the 60 minutes ending with this one. Today: since %s. Revenue is what shoppers paid, in UAE dirhams at fixed rates.", "الساعة الأخيرة: الدقائق الستون المنتهية بهذه الدقيقة. اليوم: منذ %s. الإيرادات هي ما دفعه المتسوقون بالدرهم الإماراتي بأسعار صرف ثابتة."},
	"f_revenue":              {"Revenue (AED)", "الإيرادات (درهم)"},
	"f_net":                  {"Net of cancellations (AED)", "الصافي بعد الإلغاءات (درهم)"},
	"f_views":                {"Product views", "مشاهدات المنتجات"},
	"f_adds":                 {"Units added to cart", "وحدات أضيفت إلى السلة"},
	"f_conv":                 {"Conversion (orders ÷ views)", "التحويل (الطلبات ÷ المشاهدات)"},
	"f_visitors":             {"Visitors", "الزوار"},
	"f_buyers":               {"Buyers", "المشترون"},
	"f_conversion":           {"Conversion (buyers ÷ visitors)", "التحويل (المشترون ÷ الزوار)"},
	"f_aov":                  {"Average order (AED)", "متوسط الطلب (درهم)"},
	"visitors":               {"Visitors", "الزوار"},
	"window":                 {"Window", "الفترة"},
	"w_minute":               {"Last minute", "الدقيقة الأخيرة"},
	"w_hour":                 {"Last hour", "الساعة الأخيرة"},
	"w_day":                  {"Today", "اليوم"},
	"upo":                    {"Units per order", "وحدات لكل طلب"},
	"per_market":             {"Visitors per market, last hour", "الزوار حسب السوق، الساعة الأخيرة"},
	"aud_note":               {"Distinct visitors are estimated (about 1% error).", "عدد الزوار المميزين تقديري (خطأ نحو 1٪)."},
	"stock":                  {"Stock", "المخزون"},
	"threshold":              {"Low means %s units or fewer.", "المنخفض يعني %s وحدات أو أقل."},
	"s_watch":                {"Watch list: top sellers and sale items", "قائمة المراقبة: الأكثر مبيعًا ومنتجات التخفيضات"},
	"s_low":                  {"Low stock, lowest first", "مخزون منخفض، الأقل أولًا"},
	"s_out":                  {"Out of stock", "نفد من المخزون"},
	"units_hour":             {"Units sold, last hour", "الوحدات المباعة، الساعة الأخيرة"},
	"on_sale":                {"On sale", "في التخفيضات"},
	"nothing":                {"Nothing yet.", "لا شيء بعد."},
	"products":               {"Products, last 60 minutes", "المنتجات، آخر 60 دقيقة"},
	"market":                 {"Market", "السوق"},
	"city":                   {"City", "المدينة"},
	"category":               {"Category", "الفئة"},
	"all":                    {"All", "الكل"},
	"apply":                  {"Apply filters", "تطبيق الفلاتر"},
	"unfiltered":             {"The filters cannot be applied just now: every product of the last hour is shown.", "تعذر تطبيق الفلاتر الآن: تظهر كل منتجات الساعة الأخيرة."},
	"clear":                  {"Clear", "مسح"},
	"price":                  {"Price", "السعر"},
	"views":                  {"Views", "المشاهدات"},
	"adds":                   {"Adds to cart", "الإضافات إلى السلة"},
	"revenue":                {"Revenue (AED)", "الإيرادات (درهم)"},
	"sort_by":                {"Sort by %s", "رتّب حسب %s"},
	"shown_of":               {"%s of %s shown", "يظهر %s من %s"},
	"brands":                 {"Brands, last 60 minutes", "العلامات التجارية، آخر 60 دقيقة"},
	"markets":                {"Revenue per market", "الإيرادات حسب السوق"},
	"local":                  {"Local currency", "العملة المحلية"},
	"aed":                    {"AED", "درهم"},
	"unknown_mkt":            {"Market not given", "سوق غير محدد"},
	"trending":               {"Top products now", "المنتجات الرائجة الآن"},
	"trend_note":             {"Ranked by views + 3 × add-to-cart + 10 × orders.", "الترتيب حسب المشاهدات + 3 × الإضافات إلى السلة + 10 × الطلبات."},
	"last_5m":                {"Last 5 minutes", "آخر 5 دقائق"},
	"last_15m":               {"Last 15 minutes", "آخر 15 دقيقة"},
	"last_60m":               {"Last 60 minutes", "آخر 60 دقيقة"},
	"no_activity":            {"No activity in this window.", "لا نشاط في هذه الفترة."},
	"funnel":                 {"Funnel, last 60 minutes", "مسار الشراء، آخر 60 دقيقة"},
	"stage":                  {"Stage", "المرحلة"},
	"events":                 {"Events", "الأحداث"},
	"of_before":              {"Of the step before", "من الخطوة السابقة"},
	"of_views":               {"Of views", "من المشاهدات"},
	"share_views":            {"Share of views", "النسبة من المشاهدات"},
	"st_view":                {"Product views", "مشاهدات المنتجات"},
	"st_cart":                {"Added to cart", "أضيف إلى السلة"},
	"st_checkout":            {"Checkouts started", "بدء الدفع"},
	"st_order":               {"Orders completed", "طلبات مكتملة"},
	"view_order":             {"Views to orders:", "من المشاهدات إلى الطلبات:"},
	"funnel_note":            {"Counted in events, not shoppers, so a step can pass 100%.", "تُحسب بالأحداث لا بالمتسوقين، لذا قد تتجاوز خطوة 100%."},
	"searches":               {"Searches:", "عمليات البحث:"},
	"zero_found":             {"of which found nothing:", "منها بلا نتائج:"},
	"cats_cities":            {"Categories and cities, last 60 minutes", "الفئات والمدن، آخر 60 دقيقة"},
	"categories":             {"Categories", "الفئات"},
	"cities":                 {"Cities", "المدن"},
	"units_added":            {"Units added", "الوحدات المضافة"},
	"units_sold":             {"Units sold", "الوحدات المباعة"},
	"health":                 {"Pipeline health", "سلامة خط البيانات"},
	"status":                 {"Status:", "الحالة:"},
	"h_reporting":            {"reporting", "يعمل"},
	"h_error":                {"error", "خطأ"},
	"h_unavail":              {"unavailable", "غير متاح"},
	"h_ingest":               {"Ingest rate (events per second)", "معدل الاستقبال (أحداث في الثانية)"},
	"h_stream":               {"Messages in the stream", "الرسائل في التدفق"},
	"h_lag":                  {"Stream lag (processor pending)", "تأخر التدفق (بانتظار المعالج)"},
	"h_archlag":              {"Archive lag (stream sequences not yet archived)", "تأخر الأرشيف (تسلسلات لم تؤرشف بعد)"},
	"h_missing":              {"Missing from the archive", "مفقود من الأرشيف"},
	"h_files":                {"Archive files", "ملفات الأرشيف"},
	"h_seq":                  {"Last archived sequence", "آخر تسلسل مؤرشف"},
	"h_maxseq":               {"Last sequence counted", "آخر تسلسل محسوب"},
	"h_dead":                 {"Dead letters", "الرسائل المرفوضة"},
	"h_delay":                {"Processing delay", "تأخر المعالجة"},
	"charts":                 {"The last 60 minutes", "آخر 60 دقيقة"},
	"c_views":                {"Product views per minute", "مشاهدات المنتجات في الدقيقة"},
	"c_orders":               {"Orders per minute", "الطلبات في الدقيقة"},
	"c_revenue":              {"Revenue per minute (AED)", "الإيرادات في الدقيقة (درهم)"},
	"u_views":                {"views per minute", "مشاهدة في الدقيقة"},
	"u_orders":               {"orders per minute", "طلب في الدقيقة"},
	"u_revenue":              {"AED per minute", "درهم في الدقيقة"},
	"peak":                   {"peak", "الذروة"},
	"this_minute":            {"this minute", "هذه الدقيقة"},
	"chart_label":            {"%s over the last 60 minutes: %s in all, peak %s, this minute so far %s.", "%s خلال آخر 60 دقيقة: %s إجمالًا، الذروة %s، وهذه الدقيقة حتى الآن %s."},
	"as_table":               {"The same figures as a table", "الأرقام نفسها في جدول"},
	"per_minute":             {"Per minute, newest first", "لكل دقيقة، الأحدث أولًا"},
	"minute":                 {"Minute", "الدقيقة"},
	"csv":                    {"Download CSV", "تنزيل CSV"},
	"query":                  {"Query the archive", "استعلم من الأرشيف"},
	"query_note":             {"The SQL that computes these figures from the Parquet archive (DuckDB and Athena), from", "استعلام SQL الذي يحسب هذه الأرقام من أرشيف Parquet (DuckDB وAthena)، من"},
	"no_csv":                 {"No CSV for this table yet; the snapshot JSON holds it:", "لا يتوفر CSV لهذا الجدول بعد؛ يحتويه ملف JSON للقطة:"},
	"a_checkout_errors":      {"Checkout errors are high", "أخطاء الدفع مرتفعة"},
	"a_out_of_stock":         {"Checkouts failing for lack of stock", "فشل الدفع لنفاد المخزون"},
	"a_cancellations":        {"Cancellations are high", "الإلغاءات مرتفعة"},
	"a_zero_result_searches": {"Many searches find nothing", "كثير من عمليات البحث بلا نتائج"},
	"a_sold_out":             {"A product sold out", "نفد منتج"},
	"a_pipeline_lag":         {"The pipeline is behind", "خط البيانات متأخر"},
}

// tr is the text of key in lang; a missing key shows as itself, which the
// tests catch.
func tr(lang souq.Lang, key string) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	if lang == souq.Arabic {
		return m.ar
	}
	return m.en
}
