package demo

// suncare is the sun-care range (same columns as skincareA).
var suncare = []item{
	{"Beauty of Joseon", "suncare", "Relief Sun Rice + Probiotics SPF50+ PA++++ 50ml", "واقي الشمس ريليف صن بالأرز والبروبيوتيك SPF50+ من Beauty of Joseon، 50 مل", "sunscreen", 6900, 400},
	{"Beauty of Joseon", "suncare", "Matte Sun Stick Mugwort + Camelia SPF50+ 18g", "ستيك واقي شمس مطفي بالشيح والكاميليا SPF50+ من Beauty of Joseon، 18 غ", "sun-stick", 6900, 160},
	{"Round Lab", "suncare", "Birch Juice Moisturizing Sunscreen SPF45 50ml", "واقي شمس مرطب بعصارة البتولا SPF45 من Round Lab، 50 مل", "sunscreen", 7900, 220},
	{"Skin1004", "suncare", "Hyalu-Cica Water-Fit Sun Serum SPF50+ 50ml", "سيروم واقٍ من الشمس هيالو-سيكا SPF50+ من Skin1004، 50 مل", "sunscreen", 7500, 250},
	{"Isntree", "suncare", "Hyaluronic Acid Watery Sun Gel SPF50+ 50ml", "جل مائي واقٍ من الشمس بحمض الهيالورونيك SPF50+ من Isntree، 50 مل", "sunscreen", 7500, 140},
	{"Innisfree", "suncare", "Daily UV Defense Sunscreen SPF36 50ml", "واقي الشمس اليومي SPF36 من Innisfree، 50 مل", "sunscreen", 6500, 180},
	{"COSRX", "suncare", "Aloe Soothing Sun Cream SPF50 50ml", "كريم واقٍ من الشمس مهدئ بالصبار SPF50 من COSRX، 50 مل", "sunscreen", 6500, 130},
	{"Torriden", "suncare", "Dive-In Watery Moisture Sun Cream SPF50+ 60ml", "كريم دايف إن المائي الواقي من الشمس SPF50+ من Torriden، 60 مل", "sunscreen", 8500, 110},
	{"Abib", "suncare", "Quick Sunstick Protection Bar SPF50+ 22g", "ستيك واقي الشمس السريع SPF50+ من Abib، 22 غ", "sun-stick", 8900, 70},
	{"Purito", "suncare", "Daily Go-To Sunscreen SPF50+ 60ml", "واقي الشمس اليومي SPF50+ من Purito، 60 مل", "sunscreen", 7500, 5},
	{"Missha", "suncare", "All Around Safe Block Essence Sun SPF45 50ml", "جوهر واقٍ من الشمس أول أراوند سيف بلوك SPF45 من Missha، 50 مل", "sunscreen", 5500, 150},
	{"Haruharu Wonder", "suncare", "Black Rice Moisture Airyfit Daily Sunscreen SPF50+ 50ml", "واقي شمس يومي خفيف بالأرز الأسود SPF50+ من Haruharu Wonder، 50 مل", "sunscreen", 7900, 90},
	{"Dr.G", "suncare", "Green Mild Up Sun+ SPF50+ 50ml", "واقي شمس معدني لطيف SPF50+ من Dr.G، 50 مل", "sunscreen", 7900, 85},
	{"Axis-Y", "suncare", "Complete No-Stress Physical Sunscreen SPF50+ 50ml", "واقي شمس معدني كومبليت نو ستريس SPF50+ من Axis-Y، 50 مل", "sunscreen", 6900, 60},
	{"Numbuzin", "suncare", "No.1 Clear Filter Sun Essence SPF50+ 50ml", "جوهر شفاف واقٍ من الشمس رقم 1 SPF50+ من Numbuzin، 50 مل", "sunscreen", 7900, 100},
}

// masks is the mask range: sheet, overnight and rinse-off masks.
var masks = []item{
	{"Laneige", "masks", "Water Sleeping Mask 70ml", "قناع الترطيب الليلي من Laneige، 70 مل", "sleeping-mask", 12500, 130},
	{"Innisfree", "masks", "Volcanic Pore Clay Mask 100ml", "قناع الطين البركاني للمسام من Innisfree، 100 مل", "wash-off-mask", 7900, 100},
	{"Sulwhasoo", "masks", "Overnight Vitalizing Mask 120ml", "قناع ليلي منشّط من Sulwhasoo، 120 مل", "sleeping-mask", 22500, 30},
	{"Mediheal", "masks", "Tea Tree Care Solution Essential Mask 10 Sheets", "أقنعة ورقية بشجرة الشاي من Mediheal، 10 أقنعة", "sheet-mask", 6900, 300},
	{"Mediheal", "masks", "N.M.F Aquaring Ampoule Mask 10 Sheets", "أقنعة ورقية مرطبة بالأمبولة من Mediheal، 10 أقنعة", "sheet-mask", 6900, 260},
	{"Biodance", "masks", "Bio-Collagen Real Deep Mask 4 Sheets", "أقنعة الكولاجين الحيوي العميقة من Biodance، 4 أقنعة", "sheet-mask", 8900, 0},
	{"Abib", "masks", "Gummy Sheet Mask Heartleaf Sticker 10 Sheets", "أقنعة ورقية جيلية بالهارتليف من Abib، 10 أقنعة", "sheet-mask", 9900, 90},
	{"COSRX", "masks", "Ultimate Nourishing Rice Overnight Spa Mask 60ml", "قناع الأرز الليلي المغذي من COSRX، 60 مل", "sleeping-mask", 7500, 110},
	{"Axis-Y", "masks", "Mugwort Pore Clarifying Wash Off Pack 100ml", "قناع الشيح المنقي للمسام يُغسل بالماء من Axis-Y، 100 مل", "wash-off-mask", 6900, 80},
	{"Numbuzin", "masks", "No.3 Super Glowing Essence Mask 4 Sheets", "أقنعة الجوهر للإشراق رقم 3 من Numbuzin، 4 أقنعة", "sheet-mask", 4500, 150},
	{"Torriden", "masks", "Dive-In Mask 10 Sheets", "أقنعة دايف إن الورقية المرطبة من Torriden، 10 أقنعة", "sheet-mask", 7900, 140},
	{"Dr. Jart+", "masks", "Dermask Water Jet Vital Hydra Solution 5 Sheets", "أقنعة ديرماسك المرطبة ووتر جت من Dr. Jart+، 5 أقنعة", "sheet-mask", 9500, 50},
	{"I'm From", "masks", "Rice Mask 110g", "قناع الأرز من I'm From، 110 غ", "wash-off-mask", 10900, 65},
	{"Purito", "masks", "Dermide Cica Barrier Sleeping Pack 80ml", "قناع ليلي بالسيكا لحاجز البشرة من Purito، 80 مل", "sleeping-mask", 8500, 55},
	{"Klairs", "masks", "Freshly Juiced Vitamin E Mask 90ml", "قناع فيتامين إي من Klairs، 90 مل", "sleeping-mask", 8900, 45},
	{"Tonymoly", "masks", "I'm Real Avocado Sheet Mask 10 Sheets", "أقنعة ورقية بالأفوكادو من Tonymoly، 10 أقنعة", "sheet-mask", 4900, 200},
}
