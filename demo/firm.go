package demo

import (
	"time"

	"github.com/rapport-crm/rapport"
)

// FirmName is the demo firm.
const FirmName = "Harbour Mutual"

// Currency is the demo firm's currency: it is a British firm.
const Currency = "GBP"

// emailDomain is reserved for examples (RFC 2606), so no demo email reaches anyone.
const emailDomain = "harbour.example"

// The firm's teams.
const (
	teamClaims = "Claims"
	teamSales  = "Sales"
	teamCare   = "Customer Care"
)

// staffSpec describes one member of staff. joined is how long before Now they
// joined the firm; breakRate is how often the promises they make are broken.
type staffSpec struct {
	first, last string
	role        rapport.Role
	team        string
	joined      time.Duration
	breakRate   float64
}

const year = 365 * 24 * time.Hour
const day = 24 * time.Hour

// loginNames are the staff who can sign in to the demo, by first name: the
// admin, who owns the organisations; a manager and an agent of Customer
// Care, whose customers, cases and promises fill their own queues; and the
// viewer, who reads everything and changes nothing.
var loginNames = []string{demoLoginName, "maya", "leo", "nina"}

// staffSpecs lists the firm's staff: the admin first, then each team's
// manager before the team, because a manager must exist before their reports.
var staffSpecs = []staffSpec{
	{"Harriet", "Quayle", rapport.RoleAdmin, "", 6 * year, 0},
	{"Owen", "Pritchard", rapport.RoleManager, teamClaims, 5 * year, 0.05},
	// Dylan breaks promises far more often than anyone else: planted pattern (c).
	{"Dylan", "Foster", rapport.RoleAgent, teamClaims, 2 * year, 0.45},
	{"Priya", "Raman", rapport.RoleAgent, teamClaims, 4 * year, 0.07},
	{"Tom", "Whitaker", rapport.RoleAgent, teamClaims, 3 * year, 0.09},
	{"Grace", "Okafor", rapport.RoleAgent, teamClaims, 3 * year, 0.06},
	{"Callum", "Reid", rapport.RoleAgent, teamClaims, 2 * year, 0.08},
	{"Sophie", "Marsh", rapport.RoleManager, teamSales, 5 * year, 0.05},
	{"Jack", "Turner", rapport.RoleAgent, teamSales, 4 * year, 0.08},
	{"Aisha", "Begum", rapport.RoleAgent, teamSales, 3 * year, 0.06},
	{"Ben", "Carver", rapport.RoleAgent, teamSales, 2 * year, 0.09},
	{"Chloe", "Dawson", rapport.RoleAgent, teamSales, 2 * year, 0.07},
	{"Ravi", "Patel", rapport.RoleAgent, teamSales, 150 * day, 0.08}, // joined during the year
	{"Maya", "Collins", rapport.RoleManager, teamCare, 5 * year, 0.04},
	{"Leo", "Brennan", rapport.RoleAgent, teamCare, 4 * year, 0.07},
	{"Hannah", "Lewis", rapport.RoleAgent, teamCare, 3 * year, 0.08},
	{"Sam", "Ellis", rapport.RoleAgent, teamCare, 3 * year, 0.06},
	{"Zara", "Hussain", rapport.RoleAgent, teamCare, 2 * year, 0.09},
	{"Ewan", "Fraser", rapport.RoleAgent, teamCare, 2 * year, 0.07},
	{"Nina", "Shah", rapport.RoleViewer, "", 1 * year, 0},
}

// productSpec is a product with the usual yearly premium for a person;
// organisations pay several times more.
type productSpec struct {
	key, name string
	premium   float64
	claimable bool
	forOrgs   bool
}

var productSpecs = []productSpec{
	{"motor", "Motor insurance", 620, true, true},
	{"home", "Home insurance", 380, true, false},
	{"travel", "Travel insurance", 85, true, true},
	{"life", "Life cover", 340, false, true},
	{"pet", "Pet insurance", 290, true, false},
	{"health", "Health insurance", 1150, true, true},
}

// How likely each product is to be a customer's first, in productSpecs order.
var (
	firstProductPerson = []float64{0.32, 0.26, 0.16, 0.08, 0.10, 0.08}
	firstProductOrg    = []float64{0.55, 0, 0.15, 0.12, 0, 0.18}
	nextProduct        = []float64{0.06, 0.06, 0.22, 0.14, 0.12, 0.12}
)

// The complaint touchpoint's two active responses: planted pattern (b).
const (
	responseCallBack = "call_back_same_day"
	responseApology  = "email_apology"
)

// trialStarted is how long before Now the call-back response went on trial;
// before then every complaint got the standard email apology.
const trialStarted = 200 * day

var firstNames = []string{
	"Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Noah", "Mia", "Jack", "Ivy",
	"Charlie", "Florence", "Leo", "Freya", "Jacob", "Lily", "Freddie", "Emily", "Alfie", "Poppy",
	"Arthur", "Ella", "Oscar", "Grace", "Theo", "Sophia", "Thomas", "Evie", "James", "Charlotte",
	"William", "Isabella", "Henry", "Alice", "Joshua", "Matilda", "Muhammad", "Daisy", "Archie", "Sienna",
	"Ethan", "Phoebe", "Daniel", "Rosie", "Samuel", "Ruby", "Mohammed", "Zara", "Lucas", "Harper",
	"Benjamin", "Millie", "Adam", "Eleanor", "Joseph", "Imogen", "Max", "Chloe", "Finley", "Erin",
	"Dylan", "Aisha", "Rhys", "Megan", "Callum", "Niamh", "Euan", "Eilidh", "Declan", "Siobhan",
	"Arjun", "Priya", "Ravi", "Anjali", "Kwame", "Ama", "Tomasz", "Zofia", "Mateo", "Lucia",
	"David", "Susan", "Peter", "Margaret", "Michael", "Patricia", "Robert", "Helen", "Paul", "Janet",
	"Stephen", "Linda", "Andrew", "Karen", "Richard", "Julie", "Mark", "Alison", "Ian", "Gillian",
}

var lastNames = []string{
	"Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Robinson",
	"Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Thomas", "Clarke",
	"Jackson", "Wood", "Harris", "Edwards", "Turner", "Martin", "Cooper", "Hill", "Ward", "Hughes",
	"Moore", "Clark", "King", "Harrison", "Lewis", "Baker", "Lee", "Allen", "Morris", "Khan",
	"Scott", "Watson", "Davis", "Parker", "James", "Bennett", "Young", "Phillips", "Richardson", "Mitchell",
	"Bailey", "Carter", "Cook", "Singh", "Shaw", "Bell", "Collins", "Morgan", "Kelly", "Begum",
	"Campbell", "Stewart", "MacDonald", "Murray", "Reid", "Ross", "Fraser", "Griffiths", "Price", "Jenkins",
	"Okafor", "Mensah", "Nowak", "Kowalski", "Garcia", "Rossi", "Chen", "Wong", "Ahmed", "Hussain",
	"Fletcher", "Barker", "Holmes", "Palmer", "Lloyd", "Chapman", "Mason", "Rogers", "Gray", "Webb",
}

var orgFirst = []string{
	"Kestrel", "Northgate", "Brightwater", "Fenwick", "Ashdown", "Millbrook", "Harcourt", "Riverside",
	"Oakfield", "Seaview", "Redbank", "Thornbury", "Greystone", "Westmoor", "Bluebell", "Copperfield",
	"Highcliff", "Larkspur", "Pennine", "Saltmarsh", "Elmstead", "Foxley", "Hollybush", "Kingsway",
}

var orgTrade = []struct{ trade, sector string }{
	{"Logistics", "transport"}, {"Joinery", "construction"}, {"Dental Practice", "health"},
	{"Bakery", "food"}, {"Couriers", "transport"}, {"Builders", "construction"},
	{"Veterinary Clinic", "health"}, {"Café", "food"}, {"Accountants", "professional"},
	{"Design Studio", "professional"}, {"Garage", "motor trade"}, {"Lettings", "property"},
	{"Nurseries", "retail"}, {"Electrical", "construction"}, {"Cleaning Services", "services"},
	{"Print Works", "manufacturing"},
}

var orgSuffix = []string{"Ltd", "Ltd", "Ltd", "& Co", "LLP", "Group"}

// region is an area of the UK with a telephone range Ofcom keeps for drama,
// so generated numbers reach no one; prefix is all but the last three digits.
type region struct {
	name   string
	prefix string
	weight float64
}

var regions = []region{
	{"London", "+44 20 7946 0", 0.18},
	{"South East", "+44 118 496 0", 0.14},
	{"South West", "+44 117 496 0", 0.09},
	{"Midlands", "+44 121 496 0", 0.14},
	{"North West", "+44 161 496 0", 0.12},
	{"Yorkshire", "+44 113 496 0", 0.10},
	{"North East", "+44 191 498 0", 0.05},
	{"Scotland", "+44 131 496 0", 0.09},
	{"Wales", "+44 29 2018 0", 0.05},
	{"Northern Ireland", "+44 28 9649 6", 0.04},
}

// mobilePrefix is Ofcom's drama range for mobile numbers.
const mobilePrefix = "+44 7700 900"

var ageBands = []string{"18-24", "25-34", "35-44", "45-54", "55-64", "65+"}
var ageWeights = []float64{0.08, 0.19, 0.21, 0.2, 0.17, 0.15}

var likes = []string{
	"phone calls", "email updates", "plain-English documents", "same-day replies",
	"speaking to the same person", "text reminders", "paperless documents",
	"evening appointments", "loyalty discounts", "a named claims handler",
}

var dislikes = []string{
	"automated phone menus", "being passed between departments", "paper post",
	"sales calls", "jargon", "calls during working hours", "chasing for updates",
	"repeating their details", "price rises at renewal",
}

// Notes staff write, by touchpoint and outcome; %s is a product name where
// the note takes one.
var notes = map[string][3][]string{
	"greeting": {
		{"Recognised the customer by name and picked up from the last call.", "Warm welcome; customer said it was nice to be remembered."},
		{"Verified identity and confirmed contact details.", "Standard greeting; security questions passed first time."},
		{"Customer waited on hold for a long time before being greeted.", "Security questions failed twice; customer frustrated."},
	},
	"query": {
		{"Explained the %s excess clearly and emailed a summary straight away.", "Answered the %s question at once and spotted a cheaper option."},
		{"Answered a question about the %s cover.", "Updated the address on the %s policy.", "Confirmed the %s renewal date."},
		{"Could not answer the %s question; promised to find out.", "Customer had asked about the %s policy twice before."},
	},
	"complaint": {
		{"Resolved the complaint on the first call; customer thanked us.", "Apologised, fixed the %s error and refunded the difference."},
		{"Logged the complaint about the %s policy and explained the next steps.", "Complaint acknowledged; review under way."},
		{"Customer unhappy with how the complaint was handled.", "Complaint about the %s policy escalated; customer wants to cancel."},
	},
	"offer": {
		{"Customer delighted with the %s loyalty discount.", "Offered a multi-policy discount on %s; well received."},
		{"Presented the %s quote.", "Sent the %s renewal terms."},
		{"Customer annoyed by the %s price at renewal.", "Customer said the %s offer felt like a hard sell."},
	},
	"purchase": {
		{"Set up the %s policy in minutes; customer very pleased.", "Bought %s cover; quick and easy."},
		{"Took out %s cover.", "Completed the %s application."},
		{"The %s application took three attempts.", "Payment for %s failed twice before going through."},
	},
	"delivery": {
		{"The %s documents arrived the same day, clear and complete.", "Claim payment for %s reached the customer early."},
		{"Sent the %s policy documents.", "The %s claim payment was made."},
		{"The %s documents had the wrong address.", "The %s claim payment was late."},
	},
	"service": {
		{"Handled the %s claim in one call; repair booked for tomorrow.", "The assessor visited the same day; %s claim approved on the spot."},
		{"Registered the %s claim and explained what happens next.", "The %s claim is progressing; paperwork received."},
		{"The %s claim was delayed again; customer has chased three times.", "Customer disputes the %s claim settlement.", "Lost the photos for the %s claim; customer had to resend them."},
	},
	"closing": {
		{"Summarised everything and booked a follow-up at the customer's preferred time.", "Customer thanked the agent by name."},
		{"Confirmed next steps and closed the call.", "Summarised the call."},
		{"The call dropped before the summary.", "Customer left without clear next steps."},
	},
}

// promiseTexts are what staff promise, by touchpoint.
var promiseTexts = map[string][]string{
	"service":   {"Call back with an update on the %s claim", "Arrange the assessor's visit for the %s claim", "Confirm the %s claim settlement in writing"},
	"complaint": {"Call back with the outcome of the review", "Refund the overcharged %s premium", "Send a written apology and the corrected %s documents"},
	"query":     {"Email the answer about the %s cover", "Send a %s quote", "Post the %s policy wording"},
}

// dissolutionTexts explain a dissolution, by reason.
var dissolutionTexts = map[string][]string{
	rapport.DissolutionDissatisfied: {"cancelled every policy after the %s claim", "unhappy with how the %s claim was handled", "complained and then cancelled"},
	rapport.DissolutionDefected:     {"moved all policies to another insurer", "took a cheaper quote elsewhere after the %s claim", "did not renew; switched to a competitor"},
	rapport.DissolutionLowVolume:    {"single small policy lapsed; firm closed the account", "no active cover for a year"},
	rapport.DissolutionFraud:        {"firm ended the relationship after a fraudulent claim"},
	rapport.DissolutionOther:        {"customer emigrated", "customer deceased; estate closed", "business ceased trading"},
}
