package demo

import (
	"fmt"
	"strings"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/souq"
)

// item is one line of the demo catalogue table.
type item struct {
	brand    string
	category string // a catalog category key
	nameEN   string // without the brand, with the size: "Advanced Snail 96 Mucin Power Essence 100ml"
	nameAR   string // product type first, then "من <brand>، <size>"
	kind     string // key into kinds, for the description
	price    int64  // VAT-inclusive UAE shelf price in fils (see PriceList)
	stock    int
}

// brandInfo gives a brand's SKU prefix and slug prefix.
type brandInfo struct {
	sku, slug string
}

// brands lists every brand in the table. SKUs are the prefix plus the
// product's number within the brand ("COSRX-01"); slugs are the slug prefix
// plus the English name ("cosrx-advanced-snail-96-mucin-power-essence-100ml").
var brands = map[string]brandInfo{
	"3CE":              {"3CE", "3ce"},
	"Abib":             {"ABIB", "abib"},
	"Aestura":          {"AESTURA", "aestura"},
	"Amuse":            {"AMUSE", "amuse"},
	"Anua":             {"ANUA", "anua"},
	"Axis-Y":           {"AXISY", "axis-y"},
	"Banila Co":        {"BANILA", "banila-co"},
	"Beauty of Joseon": {"BOJ", "beauty-of-joseon"},
	"Benton":           {"BENTON", "benton"},
	"Biodance":         {"BIODANCE", "biodance"},
	"Clio":             {"CLIO", "clio"},
	"COSRX":            {"COSRX", "cosrx"},
	"d'Alba":           {"DALBA", "dalba"},
	"Dr. Jart+":        {"DRJART", "dr-jart"},
	"Dr.G":             {"DRG", "dr-g"},
	"Espoir":           {"ESPOIR", "espoir"},
	"Etude":            {"ETUDE", "etude"},
	"Goodal":           {"GOODAL", "goodal"},
	"Happy Bath":       {"HAPPYBATH", "happy-bath"},
	"Haruharu Wonder":  {"HARUHARU", "haruharu-wonder"},
	"Heimish":          {"HEIMISH", "heimish"},
	"Hera":             {"HERA", "hera"},
	"Holika Holika":    {"HOLIKA", "holika-holika"},
	"I'm From":         {"IMFROM", "im-from"},
	"Illiyoon":         {"ILLIYOON", "illiyoon"},
	"Innisfree":        {"INNISFREE", "innisfree"},
	"Isntree":          {"ISNTREE", "isntree"},
	"Klairs":           {"KLAIRS", "klairs"},
	"Kundal":           {"KUNDAL", "kundal"},
	"Laneige":          {"LANEIGE", "laneige"},
	"Ma:nyo":           {"MANYO", "manyo"},
	"Mediheal":         {"MEDIHEAL", "mediheal"},
	"Masil":            {"MASIL", "masil"},
	"Medicube":         {"MEDICUBE", "medicube"},
	"Mise en Scène":    {"MISE", "mise-en-scene"},
	"Missha":           {"MISSHA", "missha"},
	"Mixsoon":          {"MIXSOON", "mixsoon"},
	"Numbuzin":         {"NUMBUZIN", "numbuzin"},
	"Peripera":         {"PERIPERA", "peripera"},
	"Purito":           {"PURITO", "purito"},
	"Pyunkang Yul":     {"PKY", "pyunkang-yul"},
	"rom&nd":           {"ROMAND", "romand"},
	"Round Lab":        {"ROUNDLAB", "round-lab"},
	"Ryo":              {"RYO", "ryo"},
	"Skin1004":         {"SKIN1004", "skin1004"},
	"Some By Mi":       {"SOMEBYMI", "some-by-mi"},
	"Sulwhasoo":        {"SULWHASOO", "sulwhasoo"},
	"TirTir":           {"TIRTIR", "tirtir"},
	"Tonymoly":         {"TONYMOLY", "tonymoly"},
	"Torriden":         {"TORRIDEN", "torriden"},
}

// kind is a product type's one-sentence description in both languages; %s
// is the brand.
type kind struct {
	en, ar string
}

var kinds = map[string]kind{
	// Cleansing.
	"cleanser": {"A gentle daily face cleanser from %s that lifts away impurities without leaving skin tight.",
		"غسول يومي لطيف للوجه من %s يزيل الشوائب دون أن يترك البشرة مشدودة."},
	"oil-cleanser": {"A cleansing oil from %s that melts away sunscreen and make-up and rinses off clean with water.",
		"زيت منظف من %s يذيب واقي الشمس والمكياج ويُشطف بالماء بسهولة دون أثر دهني."},
	"balm-cleanser": {"A cleansing balm from %s that turns to oil on skin and dissolves make-up and sunscreen.",
		"بلسم منظف من %s يتحول إلى زيت عند ملامسة البشرة ويذيب المكياج وواقي الشمس."},
	// Treatment.
	"toner": {"A hydrating toner from %s that balances skin after cleansing and preps it for serums.",
		"تونر مرطب من %s يوازن البشرة بعد التنظيف ويهيئها لاستقبال السيروم."},
	"toner-pad": {"Pre-soaked toner pads from %s that gently exfoliate and calm skin in one swipe.",
		"أقراص تونر مشبعة من %s تقشر البشرة بلطف وتهدئها بمسحة واحدة."},
	"essence": {"A lightweight essence from %s that floods skin with moisture and leaves it plump and radiant.",
		"جوهر خفيف من %s يغمر البشرة بالترطيب ويمنحها مظهراً ممتلئاً ومشرقاً."},
	"serum": {"A concentrated serum from %s that targets dullness, dryness and uneven tone.",
		"سيروم مركّز من %s يعالج البهتان والجفاف وعدم توحد لون البشرة."},
	"ampoule": {"A potent ampoule from %s with a high dose of actives for stressed, tired-looking skin.",
		"أمبولة فعالة من %s بتركيز عالٍ من المكونات النشطة للبشرة المجهدة والمتعبة."},
	"cream": {"A nourishing moisturiser from %s that strengthens the skin barrier and keeps skin soft all day.",
		"كريم مرطب مغذٍّ من %s يقوي حاجز البشرة ويحافظ على نعومتها طوال اليوم."},
	"gel-cream": {"A light moisturiser from %s that hydrates without heaviness, ideal for hot and humid days.",
		"مرطب خفيف من %s يرطب دون إحساس بالثقل، مثالي للأيام الحارة والرطبة."},
	"eye-cream": {"An eye treatment from %s that hydrates the delicate eye area and softens the look of fine lines.",
		"علاج للعيون من %s يرطب المنطقة الرقيقة حول العينين ويخفف مظهر الخطوط الدقيقة."},
	"mist": {"A refreshing face mist from %s that revives and hydrates skin at any time of day.",
		"رذاذ منعش للوجه من %s ينعش البشرة ويرطبها في أي وقت من اليوم."},
	"exfoliant": {"A gentle exfoliant from %s that clears dead skin cells and unclogs pores for a smoother texture.",
		"مقشر لطيف من %s يزيل خلايا الجلد الميتة وينظف المسام لملمس أنعم."},
	"spot": {"Targeted blemish care from %s that calms spots and protects them while they heal.",
		"علاج موضعي للحبوب من %s يهدئ البثور ويحميها أثناء تعافيها."},
	"lip-care": {"A lip treatment from %s that softens dry lips and keeps them moisturised for hours.",
		"علاج للشفاه من %s ينعّم الشفاه الجافة ويبقيها مرطبة لساعات."},
	// Sun care.
	"sunscreen": {"A lightweight daily sunscreen from %s with high UVA and UVB protection and no white cast.",
		"واقي شمس يومي خفيف من %s يوفر حماية عالية من الأشعة فوق البنفسجية دون أن يترك أثراً أبيض."},
	"sun-stick": {"A mess-free sun stick from %s for quick sunscreen top-ups over make-up throughout the day.",
		"واقي شمس على شكل ستيك من %s لتجديد الحماية بسهولة فوق المكياج طوال اليوم."},
	// Masks.
	"sheet-mask": {"A pack of sheet masks from %s soaked in serum for an instant boost of hydration.",
		"عبوة أقنعة ورقية من %s مشبعة بالسيروم لترطيب فوري للبشرة."},
	"sleeping-mask": {"An overnight mask from %s that locks in moisture while you sleep for a rested-looking complexion.",
		"قناع ليلي من %s يحبس الرطوبة أثناء النوم لبشرة تبدو مرتاحة ونضرة في الصباح."},
	"wash-off-mask": {"A rinse-off mask from %s that purifies pores and leaves skin smooth and clear.",
		"قناع يُغسل بالماء من %s ينقي المسام ويترك البشرة ناعمة وصافية."},
	// Make-up.
	"cushion": {"A cushion foundation from %s with buildable coverage and a natural, luminous finish.",
		"كوشن من %s بتغطية قابلة للبناء ولمسة نهائية طبيعية مشرقة."},
	"foundation": {"A long-wearing foundation from %s that evens out skin tone with a skin-like finish.",
		"كريم أساس يدوم طويلاً من %s يوحّد لون البشرة بلمسة نهائية طبيعية."},
	"bb-cream": {"A tinted cream from %s that evens skin tone, moisturises and protects in one step.",
		"كريم ملوّن من %s يوحّد لون البشرة ويرطبها ويحميها في خطوة واحدة."},
	"concealer": {"A creamy concealer from %s that covers dark circles and blemishes without creasing.",
		"كونسيلر كريمي من %s يخفي الهالات السوداء والعيوب دون أن يتجمع في الخطوط."},
	"powder": {"A finely milled setting powder from %s that controls shine and keeps make-up in place.",
		"بودرة تثبيت ناعمة من %s تتحكم باللمعان وتثبت المكياج في مكانه."},
	"primer": {"A smoothing primer from %s that blurs pores and helps make-up last longer.",
		"برايمر من %s ينعّم البشرة ويخفي مظهر المسام ويساعد على ثبات المكياج لفترة أطول."},
	"lip-tint": {"A long-lasting lip tint from %s with juicy, glass-like colour that does not dry the lips.",
		"تينت شفاه يدوم طويلاً من %s بلون لامع كالزجاج لا يجفف الشفاه."},
	"lipstick": {"A velvet lipstick from %s with rich colour in a single swipe and a comfortable matte finish.",
		"أحمر شفاه مخملي من %s بلون غني من التمريرة الأولى ولمسة مطفية مريحة."},
	"lip-gloss": {"A high-shine lip gloss from %s that adds plump-looking colour without stickiness.",
		"ملمع شفاه من %s يمنح الشفاه لوناً لامعاً ومظهراً ممتلئاً دون التصاق."},
	"blush": {"A soft blush from %s that blends easily for a natural, healthy flush.",
		"أحمر خدود ناعم من %s يمتزج بسهولة ليمنح الوجنتين توهجاً طبيعياً وصحياً."},
	"eyeshadow": {"An eyeshadow palette from %s with blendable matte and shimmer shades for everyday looks.",
		"باليت ظلال عيون من %s بدرجات مطفية ولامعة سهلة الدمج لإطلالات يومية."},
	"eyeliner": {"A smudge-proof eyeliner from %s with a fine tip for precise lines that last all day.",
		"محدد عيون مقاوم للتلطخ من %s برأس رفيع لخطوط دقيقة تدوم طوال اليوم."},
	"mascara": {"A curling mascara from %s that lifts and separates lashes without clumping.",
		"ماسكارا من %s ترفع الرموش وتفصلها وتمنحها انحناءً دون تكتل."},
	"brow": {"A brow pencil from %s that fills and shapes brows with natural-looking strokes.",
		"قلم حواجب من %s يملأ الحواجب ويحدد شكلها بخطوط طبيعية المظهر."},
	// Hair care.
	"shampoo": {"A shampoo from %s that cleanses the scalp gently and leaves hair soft and shiny.",
		"شامبو من %s ينظف فروة الرأس بلطف ويترك الشعر ناعماً ولامعاً."},
	"conditioner": {"A conditioner from %s that detangles and smooths hair from root to tip.",
		"بلسم للشعر من %s يفك تشابك الشعر وينعّمه من الجذور حتى الأطراف."},
	"hair-treatment": {"A rinse-off hair treatment from %s that repairs damage from heat styling and colouring.",
		"علاج للشعر يُشطف بالماء من %s يصلح الضرر الناتج عن التصفيف الحراري والصبغة."},
	"hair-oil": {"A lightweight hair serum from %s that tames frizz and adds shine without weighing hair down.",
		"سيروم خفيف للشعر من %s يروّض التجعد ويضيف اللمعان دون أن يثقل الشعر."},
	"scalp": {"A refreshing scalp tonic from %s that soothes the scalp and supports fuller-looking hair.",
		"تونيك منعش لفروة الرأس من %s يهدئ الفروة ويمنح الشعر مظهراً أكثر كثافة."},
	// Body care.
	"body-wash": {"A body wash from %s that cleanses gently and leaves skin soft and lightly scented.",
		"غسول للجسم من %s ينظف بلطف ويترك البشرة ناعمة برائحة خفيفة."},
	"body-lotion": {"A body moisturiser from %s that soothes dry skin and keeps it hydrated all day.",
		"مرطب للجسم من %s يهدئ البشرة الجافة ويبقيها مرطبة طوال اليوم."},
	"hand-cream": {"A fast-absorbing hand cream from %s that softens dry hands without a greasy feel.",
		"كريم لليدين سريع الامتصاص من %s ينعّم اليدين الجافتين دون ملمس دهني."},
}

// table is the whole demo catalogue, in display order.
func table() []item {
	var all []item
	for _, part := range [][]item{skincareA, skincareB, makeup, suncare, masks, haircare, bodycare} {
		all = append(all, part...)
	}
	return all
}

// rlm is the right-to-left mark. The table writes Arabic names as
// "… من COSRX، 100 مل"; a size right after a Latin brand would otherwise be
// laid out left-to-right with the brand and read before it.
const rlm = "\u200f"

// Products returns the demo catalogue: Korean beauty products with English
// and Arabic names and descriptions, SKUs, slugs, images, prices in all six
// markets (see PriceList) and stock levels. Each call returns fresh values.
func Products() []catalog.ProductInput {
	rows := table()
	out := make([]catalog.ProductInput, 0, len(rows))
	seq := make(map[string]int)
	for _, r := range rows {
		b, ok := brands[r.brand]
		if !ok {
			panic(fmt.Sprintf("demo: brand %q is not in the brands table", r.brand))
		}
		k, ok := kinds[r.kind]
		if !ok {
			panic(fmt.Sprintf("demo: product type %q is not in the kinds table", r.kind))
		}
		seq[r.brand]++
		slug := b.slug + "-" + slugify(r.nameEN)
		stock := r.stock
		out = append(out, catalog.ProductInput{
			SKU:      fmt.Sprintf("%s-%02d", b.sku, seq[r.brand]),
			Slug:     slug,
			Brand:    r.brand,
			Category: r.category,
			Name:     souq.Localized{EN: r.nameEN, AR: strings.ReplaceAll(r.nameAR, "، ", "، "+rlm)},
			Description: souq.Localized{
				EN: fmt.Sprintf(k.en, r.brand),
				AR: fmt.Sprintf(k.ar, r.brand),
			},
			Image:  "/images/products/" + slug + ".svg",
			Prices: PriceList(r.price),
			Stock:  &stock,
		})
	}
	return out
}

// slugify lower-cases s and joins its runs of ASCII letters and digits with
// '-'; apostrophes are dropped ("I'm" → "im").
func slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r == '\'' || r == '’':
			continue
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		default:
			dash = true
		}
	}
	return b.String()
}
