package demo

// haircare is the hair-care range (same columns as skincareA).
var haircare = []item{
	{"Mise en Scène", "haircare", "Perfect Serum Original 80ml", "سيروم الشعر بيرفكت الأصلي من Mise en Scène، 80 مل", "hair-oil", 4500, 260},
	{"Mise en Scène", "haircare", "Perfect Repair Shampoo 530ml", "شامبو بيرفكت ريبير من Mise en Scène، 530 مل", "shampoo", 4900, 120},
	{"Mise en Scène", "haircare", "Perfect Repair Treatment 180ml", "علاج الشعر بيرفكت ريبير من Mise en Scène، 180 مل", "hair-treatment", 4500, 80},
	{"Ryo", "haircare", "Hair Loss Expert Care Shampoo for Oily Scalp 400ml", "شامبو العناية بتساقط الشعر لفروة الرأس الدهنية من Ryo، 400 مل", "shampoo", 6900, 150},
	{"Ryo", "haircare", "Jayangyunmo Hair Loss Expert Care Conditioner 400ml", "بلسم العناية بتساقط الشعر جايانغيونمو من Ryo، 400 مل", "conditioner", 6900, 90},
	{"Ryo", "haircare", "Damage Care Nourishing Treatment 200ml", "علاج مغذٍّ للشعر التالف من Ryo، 200 مل", "hair-treatment", 5900, 60},
	{"Ryo", "haircare", "Jayangyunmo Scalp Tonic 145ml", "تونيك فروة الرأس جايانغيونمو من Ryo، 145 مل", "scalp", 7900, 45},
	{"Innisfree", "haircare", "Green Tea Mint Fresh Shampoo 300ml", "شامبو الشاي الأخضر بالنعناع المنعش من Innisfree، 300 مل", "shampoo", 5500, 110},
	{"Some By Mi", "haircare", "Cica Peptide Anti Hair Loss Derma Scalp Shampoo 285ml", "شامبو السيكا والببتيد لفروة الرأس ضد تساقط الشعر من Some By Mi، 285 مل", "shampoo", 7500, 70},
	{"Holika Holika", "haircare", "Biotin Damage Care Oil Serum 80ml", "سيروم زيتي بالبيوتين للشعر التالف من Holika Holika، 80 مل", "hair-oil", 5500, 50},
	{"Kundal", "haircare", "Honey & Macadamia Shampoo 500ml", "شامبو العسل والمكاديميا من Kundal، 500 مل", "shampoo", 5900, 150},
	{"Kundal", "haircare", "Honey & Macadamia Treatment 500ml", "علاج الشعر بالعسل والمكاديميا من Kundal، 500 مل", "hair-treatment", 5900, 130},
	{"Masil", "haircare", "8 Seconds Salon Hair Mask 200ml", "قناع الشعر 8 ثوانٍ من Masil، 200 مل", "hair-treatment", 6500, 85},
}

// bodycare is the body-care range (same columns as skincareA).
var bodycare = []item{
	{"Illiyoon", "bodycare", "Ceramide Ato Concentrate Cream 200ml", "كريم السيراميد أتو المركّز من Illiyoon، 200 مل", "body-lotion", 7900, 170},
	{"Illiyoon", "bodycare", "Ceramide Ato Lotion 350ml", "لوشن السيراميد أتو من Illiyoon، 350 مل", "body-lotion", 6900, 130},
	{"Illiyoon", "bodycare", "Ceramide Ato 6.0 Top to Toe Wash 500ml", "غسول السيراميد أتو من الرأس حتى القدمين من Illiyoon، 500 مل", "body-wash", 6500, 90},
	{"Illiyoon", "bodycare", "Probiotics Skin Barrier Body Lotion 350ml", "لوشن الجسم بالبروبيوتيك لحاجز البشرة من Illiyoon، 350 مل", "body-lotion", 7500, 75},
	{"Kundal", "bodycare", "Honey & Macadamia Body Wash White Musk 500ml", "غسول الجسم بالعسل والمكاديميا والمسك الأبيض من Kundal، 500 مل", "body-wash", 4900, 110},
	{"Kundal", "bodycare", "Perfume Hand Cream Baby Powder 50ml", "كريم يدين معطّر برائحة بودرة الأطفال من Kundal، 50 مل", "hand-cream", 2500, 200},
	{"Innisfree", "bodycare", "Jeju Life Perfumed Hand Cream 30ml", "كريم يدين معطّر جيجو لايف من Innisfree، 30 مل", "hand-cream", 2900, 140},
	{"Holika Holika", "bodycare", "Aloe 99% Soothing Gel 250ml", "جل الصبار 99% المهدئ من Holika Holika، 250 مل", "body-lotion", 3500, 300},
	{"Happy Bath", "bodycare", "Original Collection Body Wash 910ml", "غسول الجسم أوريجينال كولكشن من Happy Bath، 910 مل", "body-wash", 4500, 80},
	{"Etude", "bodycare", "Hand Bouquet Rich Butter Hand Cream 50ml", "كريم يدين بالزبدة الغنية هاند بوكيه من Etude، 50 مل", "hand-cream", 2900, 150},
}
